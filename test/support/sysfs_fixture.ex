defmodule VintageNetCellular.SysfsFixture do
  @moduledoc """
  Builds sysfs trees for tests, laid out as the kernel does, with real
  relative symlinks.

      iex> dir = Path.join(System.tmp_dir!(), "sysfs-fixture-doctest-\#{System.unique_integer([:positive])}")
      iex> alias VintageNetCellular.SysfsFixture
      iex> SysfsFixture.build!(dir, [
      ...>   SysfsFixture.usb_serial_adapter(:ftdi, usb_path: "1-1.2", tty: "ttyUSB0"),
      ...>   SysfsFixture.modem(:ec25, usb_path: "1-1.3", tty_base: 1)
      ...> ])
      iex> File.read_link!(Path.join(dir, "class/tty/ttyUSB3"))
      "../../devices/platform/soc/usb-host.1/usb1/1-1/1-1.3/1-1.3:1.2/ttyUSB3/tty/ttyUSB3"
      iex> File.rm_rf(dir) |> elem(0)
      :ok

  ## Layout

  ```text
  devices/platform/soc/usb-host.1/                 the host controller (driver link)
  devices/platform/soc/usb-host.1/usb1/            root hub: idVendor 1d6b, bDeviceClass 09
  devices/.../usb1/1-1/                            an intermediate hub, added for "1-1.3"
  devices/.../usb1/1-1/1-1.3/                      idVendor, idProduct (4 hex digits),
                                                   bDeviceClass, manufacturer, product, serial,
                                                   descriptors (raw device + configuration 1)
  devices/.../1-1.3/1-1.3:1.2/                     bInterfaceNumber (2 hex digits),
                                                   bInterfaceClass, bInterfaceSubClass,
                                                   bInterfaceProtocol, modalias,
                                                   driver -> bus/usb/drivers/option
  devices/.../1-1.3:1.2/ttyUSB2/tty/ttyUSB2/dev    a usb-serial port
  devices/.../1-1.4:1.0/tty/ttyACM0/dev            a CDC-ACM port
  devices/.../1-1.3:1.4/net/wwan0/ifindex          a net device
  bus/usb/devices/{usb1,1-1.3,1-1.3:1.2,...}       -> ../../../devices/...
  bus/usb/drivers/option/1-1.3:1.2                 -> the bound interface
  bus/usb-serial/drivers/option1                   usb-serial drivers (option1, ftdi_sio, ...)
  class/tty/ttyUSB2, class/net/wwan0               -> into the tree
  class/udc/fe980000.usb                           -> devices/platform/soc/fe980000.usb/udc/...
  ```

  Only bound interfaces have a driver link, ttys and net devices; their
  drivers are registered in `bus/usb/drivers` (and `bus/usb-serial/drivers`).
  Use `driver/1` to register a driver that binds nothing (a loaded module
  that doesn't know the device).

  ## Items

  `build!/3` takes a list of items, made by:

  * `modem/2`: canned modems (`models/0`), with the tty numbers the test wants;
  * `usb_serial_adapter/2`: FTDI, CP210x, CH340, PL2303 adapters;
  * `cdc_acm_device/1`: a CDC-ACM board that isn't a modem (e.g. an Arduino);
  * `usb_device/1` and `interface/3`: anything else;
  * `host_controller/1`, `udc/2`, `driver/1`: board facts.

  Host controllers are added for every bus the devices use unless an item
  is a host controller or `host_controllers: false` is passed. Boards without
  a host controller: `build!(dir, [])`; gadget-only: `build!(dir, [udc("fe980000.usb")])`.

  ## For technology tests

  Choose the tty names with `:tty_base` (consecutive numbers for the bound
  serial interfaces, in interface order) or `:ttys` (by interface number);
  `ttys/1` tells which tty each interface got:

      iex> VintageNetCellular.SysfsFixture.modem(:ec25, ttys: %{2 => "ttyUSB7", 3 => "ttyUSB8"})
      ...> |> VintageNetCellular.SysfsFixture.ttys()
      %{0 => "ttyUSB0", 1 => "ttyUSB1", 2 => "ttyUSB7", 3 => "ttyUSB8"}
  """

  import Bitwise

  @typedoc "A fixture interface"
  @type interface() :: %{
          number: non_neg_integer(),
          class: non_neg_integer(),
          subclass: non_neg_integer(),
          protocol: non_neg_integer(),
          driver: String.t() | nil,
          tty: String.t() | nil,
          net: String.t() | nil
        }

  @typedoc "A fixture USB device"
  @type device() :: %{
          kind: :usb_device,
          usb_path: String.t(),
          vendor_id: 0..0xFFFF,
          product_id: 0..0xFFFF,
          device_class: non_neg_integer(),
          manufacturer: String.t() | nil,
          product: String.t() | nil,
          serial: String.t() | nil,
          interfaces: [interface()]
        }

  @typedoc "Anything `build!/3` takes"
  @type item() ::
          device()
          | %{kind: :host_controller, bus: pos_integer(), driver: String.t(), name: String.t()}
          | %{kind: :udc, name: String.t(), driver: String.t(), state: String.t()}
          | %{kind: :driver, name: String.t()}

  # usb-serial drivers also register under bus/usb-serial/drivers by this name
  @usb_serial_names %{
    "option" => "option1",
    "ftdi_sio" => "ftdi_sio",
    "cp210x" => "cp210x",
    "ch341" => "ch341-uart",
    "pl2303" => "pl2303",
    "qcserial" => "qcserial"
  }

  # ------------------------------------------------------------------ modems

  # {vid, pid, manufacturer, product, [{number, class, subclass, protocol, driver, kind}]}
  # kind: :tty (a port named by tty_base/ttys), :net (a net device) or nil
  defp layout(:ec25), do: quectel(0x0125, "Android", "Android")
  defp layout(:eg95), do: quectel(0x0195, "Quectel", "EG95")
  defp layout(:bg96), do: quectel(0x0296, "Quectel", "BG96")
  defp layout(:ec21), do: quectel(0x0121, "Quectel", "EC21")

  defp layout(:sim7600) do
    {0x1E0E, 0x9001, "SimTech, Incorporated", "SimTech, Incorporated",
     for(n <- 0..4, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty}) ++ [{5, 0xFF, 0xFF, 0xFF, "qmi_wwan", :net}]}
  end

  defp layout(:sim7080) do
    {0x1E0E, 0x9205, "SIMCOM_Ltd", "SIMCOM_SIM7080G", for(n <- 0..3, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty})}
  end

  defp layout(:sim7080_secondary) do
    {0x1E0E, 0x9206, "SIMCOM_Ltd", "SIMCOM_SIM7080G", for(n <- 0..5, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty})}
  end

  defp layout(:a7600) do
    {0x1E0E, 0x9011, "SimTech, Incorporated", "SimTech, Incorporated",
     [{0, 0xE0, 0x01, 0x03, "rndis_host", :net}, {1, 0x0A, 0x00, 0x00, "rndis_host", nil}] ++
       for(n <- 2..6, do: {n, 0xFF, 0x00, 0x00, "option", :tty})}
  end

  # The SIM7672 enumerates with the A76xx id and layout.
  defp layout(:sim7672) do
    {vid, pid, _, _, interfaces} = layout(:a7600)
    {vid, pid, "SIMCOM", "SIMCOM_SIM7672G", interfaces}
  end

  defp layout(:le910) do
    {0x1BC7, 0x1201, "Telit", "LE910C1-EU",
     [{0, 0xFF, 0xFF, 0xFF, "option", :tty}, {2, 0xFF, 0xFF, 0xFF, "qmi_wwan", :net}] ++
       for(n <- 3..6, do: {n, 0xFF, 0x00, 0x00, "option", :tty})}
  end

  defp layout(:lara_r2) do
    {0x1546, 0x110A, "u-blox", "u-blox Cellular Module",
     Enum.flat_map([0, 2, 4, 6, 8, 10], fn n ->
       [{n, 0x02, 0x02, 0x01, "cdc_acm", :tty}, {n + 1, 0x0A, 0x00, 0x00, "cdc_acm", nil}]
     end)}
  end

  defp layout(:lara_r6) do
    {0x05C6, 0x908B, "u-blox", "LARA-R6001D", for(n <- 0..3, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty})}
  end

  defp layout(:e3372) do
    {0x12D1, 0x1506, "HUAWEI_MOBILE", "HUAWEI_MOBILE",
     [
       {0, 0xFF, 0x02, 0x01, "option", :tty},
       {1, 0xFF, 0x02, 0x16, "huawei_cdc_ncm", :net},
       {2, 0xFF, 0x02, 0x02, "option", :tty}
     ]}
  end

  defp layout(:bg95), do: quectel(0x0700, "Quectel", "BG95-M3", qmi: false)
  defp layout(:eg91), do: quectel(0x0191, "Quectel", "EG91")
  defp layout(:em05), do: quectel(0x030E, "Quectel", "Quectel EM05-G")
  defp layout(:rm500q), do: quectel(0x0800, "Quectel", "RM500Q-GL")
  defp layout(:rm520n), do: quectel(0x0801, "Quectel", "RM520N-GL")

  defp layout(:sim7000) do
    {0x1E0E, 0x9001, "SimTech, Incorporated", "SimTech, Incorporated",
     for(n <- 0..4, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty})}
  end

  # Sierra's qcserial layout: 00 DM, 02 NMEA, 03 AT; 08 and 0a QMI.
  defp layout(:em7455), do: sierra(0x9079, "EM7455")
  defp layout(:mc7455), do: sierra(0x9071, "MC7455")
  defp layout(:em7565), do: sierra(0x9091, "EM7565")

  defp layout(:me910c1) do
    {0x1BC7, 0x1101, "Telit", "ME910C1", for(n <- 0..2, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty})}
  end

  defp layout(:sara_r410m) do
    {0x05C6, 0x90B2, "u-blox", "SARA-R410M-02B",
     for(n <- 0..2, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty}) ++ [{3, 0xFF, 0xFF, 0xFF, "qmi_wwan", :net}]}
  end

  defp layout(:me909s) do
    {0x12D1, 0x15C1, "Huawei Technologies Co., Ltd.", "HUAWEI Mobile",
     [
       {0, 0xFF, 0x02, 0x01, "option", :tty},
       {1, 0xFF, 0x02, 0x16, "huawei_cdc_ncm", :net},
       {2, 0xFF, 0x02, 0x02, "option", :tty},
       {3, 0xFF, 0x02, 0x12, "option", :tty}
     ]}
  end

  defp layout(:fm150) do
    {0x2CB7, 0x0104, "Fibocom", "Fibocom FM150 Module",
     for(n <- 0..3, do: {n, 0xFF, 0xFF, 0xFF, "option", :tty}) ++ [{4, 0xFF, 0xFF, 0xFF, "qmi_wwan", :net}]}
  end

  defp layout(other) do
    raise ArgumentError, "unknown fixture modem #{inspect(other)}; known: #{inspect(models())}"
  end

  defp composition(layout, composition) when composition in [nil, :rmnet, :serial, :mbim], do: layout

  # A7600-style layouts have RNDIS already.
  defp composition({_, _, _, _, interfaces} = layout, :rndis) when is_list(interfaces) do
    if Enum.any?(interfaces, &match?({_, _, _, _, "rndis_host", _}, &1)),
      do: layout,
      else: add_function(layout, :rndis)
  end

  defp composition({0x2C7C, pid, manufacturer, product, interfaces}, :ecm) do
    serial = Enum.reject(interfaces, &match?({_, _, _, _, _, :net}, &1))
    {0x2C7C, pid, manufacturer, product, serial ++ ecm(4)}
  end

  defp composition({0x1E0E, 0x9001, manufacturer, product, _interfaces}, :ecm) do
    {0x1E0E, 0x9018, manufacturer, product, ecm(0) ++ for(n <- 2..6, do: {n, 0xFF, 0x00, 0x00, "option", :tty})}
  end

  # Other modems (u-blox, Telit): the function after the serial interfaces.
  defp composition(layout, kind) when kind in [:ecm], do: add_function(layout, kind)

  defp ecm(first), do: [{first, 0x02, 0x06, 0x00, "cdc_ether", :net}, {first + 1, 0x0A, 0x00, 0x00, "cdc_ether", nil}]

  defp rndis(first),
    do: [{first, 0xE0, 0x01, 0x03, "rndis_host", :net}, {first + 1, 0x0A, 0x00, 0x00, "rndis_host", nil}]

  defp add_function({vid, pid, manufacturer, product, interfaces}, kind) do
    serial = Enum.reject(interfaces, &match?({_, _, _, _, _, :net}, &1))
    next = serial |> Enum.map(&elem(&1, 0)) |> Enum.max(fn -> -1 end) |> Kernel.+(1)
    {vid, pid, manufacturer, product, serial ++ if(kind == :ecm, do: ecm(next), else: rndis(next))}
  end

  defp quectel(pid, manufacturer, product, opts \\ []) do
    qmi = if Keyword.get(opts, :qmi, true), do: [{4, 0xFF, 0xFF, 0xFF, "qmi_wwan", :net}], else: []

    {0x2C7C, pid, manufacturer, product,
     [{0, 0xFF, 0xFF, 0xFF, "option", :tty}] ++ for(n <- 1..3, do: {n, 0xFF, 0x00, 0x00, "option", :tty}) ++ qmi}
  end

  defp sierra(pid, product) do
    {0x1199, pid, "Sierra Wireless, Incorporated", product,
     [
       {0, 0xFF, 0xFF, 0xFF, "qcserial", :tty},
       {2, 0xFF, 0xFF, 0xFF, "qcserial", :tty},
       {3, 0xFF, 0xFF, 0xFF, "qcserial", :tty},
       {8, 0xFF, 0xFF, 0xFF, "qmi_wwan", :net},
       {10, 0xFF, 0xFF, 0xFF, "qmi_wwan", nil}
     ]}
  end

  @doc """
  The canned modems: EC25 (2c7c:0125, reporting "Android"), EG95, BG96, EC21,
  BG95 (0700), EG91, EM05-G (030e), RM500Q (0800), RM520N (0801), SIM7600
  and SIM7000 (1e0e:9001), SIM7080 in both layouts (9205, 9206), A7600
  (9011) and SIM7672 (the same id), Sierra EM7455/MC7455/EM7565 on qcserial (1199:9079, 9071, 9091),
  Telit LE910C1 (1bc7:1201) and ME910C1 (1101), u-blox LARA-R2 (CDC-ACM),
  LARA-R6 and SARA-R410M (05c6:90b2), Huawei E3372 (12d1:1506) and ME909s
  (15c1), Fibocom FM150 (2cb7:0104).
  """
  @spec models() :: [atom()]
  def models() do
    [:ec25, :eg95, :bg96, :ec21, :bg95, :eg91, :em05, :rm500q, :rm520n, :sim7600, :sim7000, :sim7080] ++
      [
        :sim7080_secondary,
        :a7600,
        :sim7672,
        :em7455,
        :mc7455,
        :em7565,
        :le910,
        :me910c1,
        :lara_r2,
        :lara_r6,
        :sara_r410m
      ] ++
      [:e3372, :me909s, :fm150]
  end

  @doc """
  A canned modem (see `models/0`).

  Options:
  * `:usb_path` - default "1-1";
  * `:tty_base` - the number of the first tty (ttyUSB or ttyACM); the bound
    serial interfaces get consecutive numbers in interface order, as the kernel
    numbers them when nothing else is plugged in (default 0);
  * `:ttys` - `%{interface_number => "ttyUSB7"}`, names chosen per interface;
  * `:unbound` - interface numbers with no driver bound, or `:serial` (every
    tty interface) or `:all`;
  * `:qmi_unbound` - `true` to leave the QMI/network interface without driver;
  * `:net` - the name of the net device (default "wwan0", "usb0" for RNDIS
    and ECM);
  * `:composition` - `:ecm` for a model's CDC-ECM composition (Quectel:
    ECM in interfaces 04/05 instead of QMI; SIM7600: 1e0e:9018 with ECM in
    00/01 and the A7600's serial layout), as the simulator enumerates after
    its USB network switch; `nil` or `:rmnet`/`:serial` for the default;
  * `:vendor_id`, `:product_id`, `:manufacturer`, `:product`, `:serial`.
  """
  @spec modem(atom(), keyword()) :: device()
  def modem(model, opts \\ []) do
    {vid, pid, manufacturer, product, layout} = model |> layout() |> composition(Keyword.get(opts, :composition))
    unbound = unbound_set(Keyword.get(opts, :unbound, []), layout, Keyword.get(opts, :qmi_unbound, false))
    tty_prefix = if Enum.any?(layout, &match?({_, _, _, _, "cdc_acm", :tty}, &1)), do: "ttyACM", else: "ttyUSB"
    base = Keyword.get(opts, :tty_base, 0)
    names = Keyword.get(opts, :ttys, %{})

    default_net =
      if Enum.any?(layout, &match?({_, _, _, _, d, _} when d in ["rndis_host", "cdc_ether"], &1)),
        do: "usb0",
        else: "wwan0"

    {interfaces, _} =
      Enum.map_reduce(layout, base, fn {n, class, sub, proto, driver, kind}, next ->
        bound? = n not in unbound
        iface = %{number: n, class: class, subclass: sub, protocol: proto, driver: nil, tty: nil, net: nil}

        cond do
          not bound? -> {iface, next}
          kind == :tty -> {%{iface | driver: driver, tty: Map.get(names, n, "#{tty_prefix}#{next}")}, next + 1}
          kind == :net -> {%{iface | driver: driver, net: Keyword.get(opts, :net, default_net)}, next}
          true -> {%{iface | driver: driver}, next}
        end
      end)

    usb_device(
      usb_path: Keyword.get(opts, :usb_path, "1-1"),
      vendor_id: Keyword.get(opts, :vendor_id, vid),
      product_id: Keyword.get(opts, :product_id, pid),
      manufacturer: Keyword.get(opts, :manufacturer, manufacturer),
      product: Keyword.get(opts, :product, product),
      serial: Keyword.get(opts, :serial, "0123456789ABCDEF"),
      interfaces: interfaces
    )
  end

  defp unbound_set(:all, layout, _qmi), do: Enum.map(layout, &elem(&1, 0))

  defp unbound_set(:serial, layout, qmi) do
    for({n, _, _, _, _, :tty} <- layout, do: n) ++ unbound_set([], layout, qmi)
  end

  defp unbound_set(numbers, layout, qmi) when is_list(numbers) do
    if qmi, do: numbers ++ for({n, _, _, _, _, :net} <- layout, do: n), else: numbers
  end

  # ----------------------------------------------------------- other devices

  @doc """
  A one-port USB-serial adapter: `:ftdi` (0403:6001, ftdi_sio), `:cp210x`
  (10c4:ea60), `:ch340` (1a86:7523, ch341) or `:pl2303` (067b:2303).
  Options: `:usb_path` (default "1-1.1"), `:tty` (default "ttyUSB0"),
  `:unbound` (`true` for no driver).
  """
  @spec usb_serial_adapter(:ftdi | :cp210x | :ch340 | :pl2303, keyword()) :: device()
  def usb_serial_adapter(kind, opts \\ []) do
    {vid, pid, driver, manufacturer, product} =
      case kind do
        :ftdi -> {0x0403, 0x6001, "ftdi_sio", "FTDI", "FT232R USB UART"}
        :cp210x -> {0x10C4, 0xEA60, "cp210x", "Silicon Labs", "CP2102 USB to UART Bridge Controller"}
        :ch340 -> {0x1A86, 0x7523, "ch341", nil, "USB Serial"}
        :pl2303 -> {0x067B, 0x2303, "pl2303", "Prolific Technology Inc.", "USB-Serial Controller"}
      end

    iface =
      if Keyword.get(opts, :unbound, false),
        do: interface(0, 0xFF, subclass: 0, protocol: 0),
        else: interface(0, 0xFF, subclass: 0, protocol: 0, driver: driver, tty: Keyword.get(opts, :tty, "ttyUSB0"))

    usb_device(
      usb_path: Keyword.get(opts, :usb_path, "1-1.1"),
      vendor_id: vid,
      product_id: pid,
      manufacturer: manufacturer,
      product: product,
      serial: Keyword.get(opts, :serial, "A50285BI"),
      interfaces: [iface]
    )
  end

  @doc """
  A CDC-ACM device that is not a modem (default: an Arduino Uno, 2341:0043).
  Options: `:usb_path` (default "1-1.4"), `:tty` (default "ttyACM0"),
  `:vendor_id`, `:product_id`.
  """
  @spec cdc_acm_device(keyword()) :: device()
  def cdc_acm_device(opts \\ []) do
    usb_device(
      usb_path: Keyword.get(opts, :usb_path, "1-1.4"),
      vendor_id: Keyword.get(opts, :vendor_id, 0x2341),
      product_id: Keyword.get(opts, :product_id, 0x0043),
      manufacturer: "Arduino (www.arduino.cc)",
      product: nil,
      device_class: 0x02,
      interfaces: [
        interface(0, 0x02, subclass: 0x02, protocol: 0x01, driver: "cdc_acm", tty: Keyword.get(opts, :tty, "ttyACM0")),
        interface(1, 0x0A, driver: "cdc_acm")
      ]
    )
  end

  @doc """
  Any USB device. Options: `:usb_path` (required), `:vendor_id`, `:product_id`
  (required), `:manufacturer`, `:product`, `:serial` (nil for none),
  `:device_class` (default 0), `:interfaces` (see `interface/3`).
  """
  @spec usb_device(keyword()) :: device()
  def usb_device(opts) do
    %{
      kind: :usb_device,
      usb_path: Keyword.fetch!(opts, :usb_path),
      vendor_id: Keyword.fetch!(opts, :vendor_id),
      product_id: Keyword.fetch!(opts, :product_id),
      device_class: Keyword.get(opts, :device_class, 0),
      manufacturer: Keyword.get(opts, :manufacturer),
      product: Keyword.get(opts, :product),
      serial: Keyword.get(opts, :serial),
      interfaces: Keyword.get(opts, :interfaces, [])
    }
  end

  @doc """
  An interface. Options: `:subclass`, `:protocol` (default 0), `:driver`
  (nil for unbound), `:tty` (a usb-serial "ttyUSBn" dir, or "tty/ttyACMn" when
  the driver is cdc_acm), `:net`.
  """
  @spec interface(non_neg_integer(), non_neg_integer(), keyword()) :: interface()
  def interface(number, class, opts \\ []) do
    %{
      number: number,
      class: class,
      subclass: Keyword.get(opts, :subclass, 0),
      protocol: Keyword.get(opts, :protocol, 0),
      driver: Keyword.get(opts, :driver),
      tty: Keyword.get(opts, :tty),
      net: Keyword.get(opts, :net)
    }
  end

  @doc "A USB host controller (root hub `usb<bus>`). Options: `:bus` (1), `:driver` (\"xhci-hcd\"), `:name`."
  @spec host_controller(keyword()) :: item()
  def host_controller(opts \\ []) do
    bus = Keyword.get(opts, :bus, 1)

    %{
      kind: :host_controller,
      bus: bus,
      driver: Keyword.get(opts, :driver, "xhci-hcd"),
      name: Keyword.get(opts, :name, "usb-host.#{bus}")
    }
  end

  @doc "A USB device-mode (gadget) controller in class/udc. Options: `:driver` (\"dwc2\"), `:state`."
  @spec udc(String.t(), keyword()) :: item()
  def udc(name, opts \\ []) do
    %{
      kind: :udc,
      name: name,
      driver: Keyword.get(opts, :driver, "dwc2"),
      state: Keyword.get(opts, :state, "not attached")
    }
  end

  @doc "A registered (built-in or loaded) USB driver that may bind nothing, e.g. `driver(\"option\")`."
  @spec driver(String.t()) :: item()
  def driver(name), do: %{kind: :driver, name: name}

  @doc "The tty name of each bound serial interface of a fixture device."
  @spec ttys(device()) :: %{non_neg_integer() => String.t()}
  def ttys(%{interfaces: interfaces}) do
    for %{tty: tty, number: n} <- interfaces, tty != nil, into: %{}, do: {n, tty}
  end

  # ------------------------------------------------------------------- build

  @doc """
  Writes the items under `dir` (created if needed) and returns `dir`.

  Options: `host_controllers: false` to add no host controller by itself.
  """
  @spec build!(Path.t(), [item()], keyword()) :: Path.t()
  def build!(dir, items, opts \\ []) do
    dir = Path.expand(dir)
    File.mkdir_p!(dir)
    devices = for %{kind: :usb_device} = d <- items, do: d
    explicit_hosts = for %{kind: :host_controller} = h <- items, do: h

    hosts =
      cond do
        explicit_hosts != [] -> explicit_hosts
        Keyword.get(opts, :host_controllers, true) == false -> []
        true -> devices |> Enum.map(&bus_of(&1.usb_path)) |> Enum.uniq() |> Enum.map(&host_controller(bus: &1))
      end

    Enum.each(hosts, &write_host(dir, &1))

    known_paths = MapSet.new(devices, & &1.usb_path)

    devices
    |> Enum.flat_map(&ancestors(&1.usb_path))
    |> Enum.uniq()
    |> Enum.reject(&MapSet.member?(known_paths, &1))
    |> Enum.each(&write_device(dir, hosts, hub(&1)))

    Enum.each(devices, &write_device(dir, hosts, &1))
    for %{kind: :udc} = udc <- items, do: write_udc(dir, udc)
    for %{kind: :driver, name: name} <- items, do: register_driver(dir, name)
    dir
  end

  defp bus_of(usb_path) do
    case Integer.parse(usb_path) do
      {bus, "-" <> _} -> bus
      _ -> raise ArgumentError, "bad usb_path #{inspect(usb_path)}: expected e.g. \"1-1.3\""
    end
  end

  # "1-1.3.2" -> ["1-1", "1-1.3"]
  defp ancestors(usb_path) do
    parts = String.split(usb_path, ".")
    for n <- 1..(length(parts) - 1)//1, do: parts |> Enum.take(n) |> Enum.join(".")
  end

  defp hub(usb_path) do
    usb_device(
      usb_path: usb_path,
      vendor_id: 0x0424,
      product_id: 0x2514,
      device_class: 0x09,
      interfaces: [interface(0, 0x09, driver: "hub")]
    )
  end

  defp controller_dir(hosts, bus) do
    name =
      case Enum.find(hosts, &(&1.bus == bus)) do
        %{name: name} -> name
        nil -> "usb-host.#{bus}"
      end

    Path.join("devices/platform/soc", name)
  end

  defp device_dir(hosts, usb_path) do
    bus = bus_of(usb_path)
    chain = ancestors(usb_path) ++ [usb_path]
    Path.join([controller_dir(hosts, bus), "usb#{bus}" | chain])
  end

  defp write_host(dir, %{bus: bus, driver: driver, name: name}) do
    ctrl = Path.join("devices/platform/soc", name)
    hub = Path.join(ctrl, "usb#{bus}")
    attrs!(dir, hub, idVendor: "1d6b", idProduct: "0002", bDeviceClass: "09", product: "#{driver} host controller")
    iface = Path.join(hub, "#{bus}-0:1.0")

    attrs!(dir, iface, bInterfaceNumber: "00", bInterfaceClass: "09", bInterfaceSubClass: "00", bInterfaceProtocol: "00")

    register_driver(dir, "hub")
    link!(dir, Path.join(iface, "driver"), "bus/usb/drivers/hub")
    link!(dir, "bus/usb/drivers/hub/#{bus}-0:1.0", iface)
    File.mkdir_p!(Path.join(dir, "bus/platform/drivers/#{driver}"))
    link!(dir, Path.join(ctrl, "driver"), "bus/platform/drivers/#{driver}")
    link!(dir, "bus/usb/devices/usb#{bus}", hub)
    link!(dir, "bus/usb/devices/#{bus}-0:1.0", iface)
  end

  defp write_udc(dir, %{name: name, driver: driver, state: state}) do
    dev = Path.join("devices/platform/soc", name)
    udc = Path.join([dev, "udc", name])
    attrs!(dir, udc, state: state)
    File.mkdir_p!(Path.join(dir, "bus/platform/drivers/#{driver}"))
    link!(dir, Path.join(dev, "driver"), "bus/platform/drivers/#{driver}")
    link!(dir, Path.join(udc, "device"), dev)
    link!(dir, "class/udc/#{name}", udc)
  end

  defp register_driver(dir, name) do
    File.mkdir_p!(Path.join(dir, "bus/usb/drivers/#{name}"))

    case Map.fetch(@usb_serial_names, name) do
      {:ok, serial_name} -> File.mkdir_p!(Path.join(dir, "bus/usb-serial/drivers/#{serial_name}"))
      :error -> :ok
    end
  end

  defp write_device(dir, hosts, device) do
    ddir = device_dir(hosts, device.usb_path)

    attrs!(dir, ddir,
      idVendor: hex(device.vendor_id, 4),
      idProduct: hex(device.product_id, 4),
      bDeviceClass: hex(device.device_class, 2),
      manufacturer: device.manufacturer,
      product: device.product,
      serial: device.serial
    )

    File.write!(Path.join([dir, ddir, "descriptors"]), descriptors(device))
    link!(dir, "bus/usb/devices/#{device.usb_path}", ddir)
    Enum.each(device.interfaces, &write_interface(dir, ddir, device, &1))
  end

  # The raw descriptors: a device descriptor, then configuration 1 with each
  # interface (alternate setting 0) and two bulk endpoints.
  defp descriptors(device) do
    config =
      for iface <- device.interfaces, into: <<>> do
        n = iface.number

        <<9, 4, n, 0, 2, iface.class, iface.subclass, iface.protocol, 0>> <>
          <<7, 5, 0x81 + n &&& 0xFF, 2, 0x00, 0x02, 0>> <> <<7, 5, 0x01 + n &&& 0xFF, 2, 0x00, 0x02, 0>>
      end

    <<18, 1, 0x00, 0x02, device.device_class, 0, 0, 64, device.vendor_id::little-16, device.product_id::little-16, 0x18,
      0x03, 1, 2, 3,
      1>> <>
      <<9, 2, 9 + byte_size(config)::little-16, length(device.interfaces), 1, 0, 0xA0, 250>> <> config
  end

  defp write_interface(dir, ddir, device, iface) do
    name = "#{device.usb_path}:1.#{iface.number}"
    idir = Path.join(ddir, name)

    modalias =
      "usb:v#{hex_up(device.vendor_id, 4)}p#{hex_up(device.product_id, 4)}d0318" <>
        "dc#{hex_up(device.device_class, 2)}dsc00dp00" <>
        "ic#{hex_up(iface.class, 2)}isc#{hex_up(iface.subclass, 2)}ip#{hex_up(iface.protocol, 2)}in#{hex_up(iface.number, 2)}"

    attrs!(dir, idir,
      bInterfaceNumber: hex(iface.number, 2),
      bAlternateSetting: " 0",
      bInterfaceClass: hex(iface.class, 2),
      bInterfaceSubClass: hex(iface.subclass, 2),
      bInterfaceProtocol: hex(iface.protocol, 2),
      modalias: modalias
    )

    link!(dir, "bus/usb/devices/#{name}", idir)

    if iface.driver do
      register_driver(dir, iface.driver)
      link!(dir, Path.join(idir, "driver"), "bus/usb/drivers/#{iface.driver}")
      link!(dir, "bus/usb/drivers/#{iface.driver}/#{name}", idir)
      if iface.tty, do: write_tty(dir, idir, iface)
      if iface.net, do: write_net(dir, idir, iface.net)
    end
  end

  defp write_tty(dir, idir, %{tty: tty, driver: driver}) do
    tty_dir =
      if driver == "cdc_acm",
        do: Path.join([idir, "tty", tty]),
        else: Path.join([idir, tty, "tty", tty])

    attrs!(dir, tty_dir, dev: "188:#{tty_minor(tty)}")
    link!(dir, "class/tty/#{tty}", tty_dir)
  end

  defp write_net(dir, idir, net) do
    net_dir = Path.join([idir, "net", net])
    attrs!(dir, net_dir, ifindex: "#{3 + :erlang.phash2(net, 100)}", address: "02:00:00:00:00:01")
    link!(dir, "class/net/#{net}", net_dir)
  end

  defp tty_minor(tty) do
    case Integer.parse(String.replace(tty, ~r/^\D+/, "")) do
      {n, _} -> n &&& 0xFF
      :error -> 0
    end
  end

  defp attrs!(dir, rel, attrs) do
    path = Path.join(dir, rel)
    File.mkdir_p!(path)

    for {name, value} <- attrs, value != nil do
      File.write!(Path.join(path, Atom.to_string(name)), value <> "\n")
    end
  end

  # A relative symlink at `link` pointing at `target` (both relative to `dir`).
  defp link!(dir, link, target) do
    link_path = Path.join(dir, link)
    parent = Path.dirname(link_path)
    File.mkdir_p!(parent)
    _ = File.rm(link_path)
    File.ln_s!(relative(parent, Path.join(dir, target)), link_path)
  end

  defp relative(from_dir, to) do
    from = Path.split(from_dir)
    to = Path.split(to)
    common = from |> Enum.zip(to) |> Enum.take_while(fn {a, b} -> a == b end) |> length()
    Path.join(List.duplicate("..", length(from) - common) ++ Enum.drop(to, common))
  end

  defp hex(n, width), do: n |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(width, "0")
  defp hex_up(n, width), do: n |> Integer.to_string(16) |> String.pad_leading(width, "0")
end
