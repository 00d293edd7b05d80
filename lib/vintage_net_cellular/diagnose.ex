defmodule VintageNetCellular.Diagnose do
  @moduledoc """
  Explains, for a person at the iex prompt, why no modem is usable (or that
  one is): which kernel option or wiring fixes what.

  `run/1` reads sysfs through `VintageNetCellular.Discovery` (the Rust side
  reports raw facts only) and words the findings here; the kernel options
  come from the modem profiles. Each finding is

      %{level: :error | :warning | :info, message: String.t(), kernel_options: [String.t()]}

  Errors come first. What is checked:

  * no USB host controller, or only a device-mode (gadget) controller such as
    dwc2 in peripheral mode: no modem can enumerate (error, with the dr_mode
    fix);
  * a known modem whose serial interfaces have no driver: no ttys (error,
    naming the driver its profile says binds it: `CONFIG_USB_SERIAL_OPTION`,
    `CONFIG_USB_SERIAL_QUALCOMM` (qcserial, e.g. Sierra EM74xx/MC74xx) or
    `CONFIG_USB_ACM`, and the `new_id` workaround when the option driver is
    loaded but doesn't know the modem's id);
  * a modem of a known modem vendor that shows only mass-storage interfaces
    (a virtual CD-ROM, e.g. Huawei 12d1:1f01 or ZTE 19d2:2000): it needs
    switching to modem mode by usb_modeswitch, or by the kernel's
    usb-storage driver for many Huawei sticks (error, naming
    `CONFIG_USB_STORAGE`);
  * a modem whose QMI interface has no driver: info only, PPP doesn't need
    wwan0;
  * a modem whose profile offers USB network functions (ECM, RNDIS): info,
    naming its net device when it has one, else the kernel options of the
    drivers the kernel lacks (`CONFIG_USB_NET_CDCETHER`,
    `CONFIG_USB_NET_RNDIS_HOST`, `CONFIG_USB_NET_CDC_NCM`);
  * a working modem: info, naming its AT and PPP ttys;
  * no modem at all: error, mentioning USB-serial adapters and unknown
    vendor-specific devices that are present.

  `findings/2` does the same from a scan and USB facts, without sysfs.

      iex> VintageNetCellular.Diagnose.findings([], %{host_controllers: [], udcs: [], usb_drivers: [], usb_serial_drivers: []})
      ...> |> Enum.map(& &1.level)
      [:error]
  """

  alias VintageNetCellular.Discovery
  alias VintageNetCellular.ModemProfile

  @typedoc "One finding"
  @type finding() :: %{level: :error | :warning | :info, message: String.t(), kernel_options: [String.t()]}

  @at_roles [:at_primary, :at_secondary, :ppp]

  @doc """
  Diagnoses the modems and USB setup under `sysfs_root` (normally "/sys").
  """
  @spec run(Path.t()) :: [finding()]
  def run(sysfs_root \\ "/sys") when is_binary(sysfs_root) do
    findings(Discovery.scan(sysfs_root), Discovery.usb_system(sysfs_root))
  end

  @doc """
  The findings for a `VintageNetCellular.Discovery.scan/1` result and
  `VintageNetCellular.Discovery.usb_system/1` facts, errors first.
  """
  @spec findings([Discovery.device()], Discovery.usb_system()) :: [finding()]
  def findings(devices, system) do
    modems = Enum.filter(devices, &(&1[:profile] != nil))
    host = host_findings(system)
    storage = system |> Map.get(:storage_devices, []) |> Enum.filter(&modem_vendor?/1) |> Enum.map(&storage_mode/1)

    modem =
      cond do
        modems != [] -> Enum.flat_map(modems, &modem_findings(&1, system))
        host != [] or storage != [] -> []
        true -> [no_modem(devices)]
      end

    Enum.sort_by(host ++ storage ++ modem, &rank(&1.level))
  end

  @doc """
  Findings as text, one paragraph each.

      iex> VintageNetCellular.Diagnose.format([%{level: :info, message: "Fine.", kernel_options: []},
      ...>   %{level: :error, message: "Broken.", kernel_options: ["CONFIG_A"]}])
      "info: Fine.\\nerror: Broken.\\n  kernel options: CONFIG_A"
  """
  @spec format([finding()]) :: String.t()
  def format(findings) do
    Enum.map_join(findings, "\n", fn f ->
      options = if f.kernel_options == [], do: "", else: "\n  kernel options: " <> Enum.join(f.kernel_options, ", ")
      "#{f.level}: #{f.message}#{options}"
    end)
  end

  defp rank(:error), do: 0
  defp rank(:warning), do: 1
  defp rank(:info), do: 2

  # ------------------------------------------------------------- the board

  defp host_findings(%{host_controllers: [_ | _]}), do: []

  defp host_findings(%{udcs: [_ | _] = udcs}) do
    names = Enum.map_join(udcs, ", ", fn u -> if u.driver, do: "#{u.name} (#{u.driver})", else: u.name end)
    drivers = udcs |> Enum.map(& &1.driver) |> Enum.uniq()

    [
      error(
        "No modem can enumerate on this board: it has no USB host controller, only a USB device-mode " <>
          "(gadget) controller: #{names}. A USB modem needs the port in host mode. Set the controller's " <>
          "device-tree dr_mode to \"host\", or \"otg\" to keep gadget use when nothing is plugged in" <>
          dr_mode_hint(drivers) <> ", and build the kernel with host or dual-role support for it.",
        Enum.flat_map(drivers, &dual_role_options/1)
      )
    ]
  end

  defp host_findings(_system) do
    [
      error(
        "No modem can enumerate on this board: there is no USB host controller (no usbN root hub in " <>
          "sysfs). Enable USB host support and your SoC's host controller driver in the kernel " <>
          "(CONFIG_USB plus e.g. CONFIG_USB_XHCI_HCD, CONFIG_USB_EHCI_HCD or CONFIG_USB_DWC2), and check " <>
          "that the USB port is enabled in the device tree.",
        ["CONFIG_USB", "CONFIG_USB_XHCI_HCD", "CONFIG_USB_EHCI_HCD", "CONFIG_USB_DWC2"]
      )
    ]
  end

  defp dr_mode_hint(drivers) do
    if "dwc2" in drivers,
      do: " (on a Raspberry Pi: `dtoverlay=dwc2,dr_mode=host` or `dr_mode=otg` in config.txt)",
      else: ""
  end

  defp dual_role_options("dwc2"), do: ["CONFIG_USB_DWC2_HOST", "CONFIG_USB_DWC2_DUAL_ROLE"]
  defp dual_role_options("dwc3"), do: ["CONFIG_USB_DWC3_HOST", "CONFIG_USB_DWC3_DUAL_ROLE"]
  defp dual_role_options("musb-hdrc"), do: ["CONFIG_USB_MUSB_HOST", "CONFIG_USB_MUSB_DUAL_ROLE"]
  defp dual_role_options("ci_hdrc"), do: ["CONFIG_USB_CHIPIDEA_HOST"]
  defp dual_role_options(_), do: []

  # ------------------------------------------------------------- one modem

  defp modem_findings(device, system) do
    serial = serial_interfaces(device)
    unbound = Enum.filter(serial, &(&1.driver == nil))
    qmi_unbound = Enum.filter(device.interfaces, &(&1[:role] == :qmi and &1.driver == nil))

    main =
      cond do
        device.at_tty == nil and unbound != [] -> [unbound_error(device, unbound, system)]
        device.at_tty == nil -> [no_at_port(device)]
        unbound != [] -> [partly_bound(device, unbound), healthy(device)]
        true -> [healthy(device)]
      end

    main ++ Enum.map(qmi_unbound, &qmi_info(device, &1)) ++ usb_net_findings(device, system)
  end

  # The USB network functions its profile offers (`data_path: :usb_net`):
  # the one it has now, or the kernel options the others need.
  defp usb_net_findings(device, system) do
    functions = ModemProfile.call(device.profile, :usb_net_functions, [{device.vendor_id, device.product_id}, 1], [])
    drivers = Map.get(system, :usb_drivers, [])
    net = VintageNetCellular.Connection.UsbNet.net_devices(device)

    case Enum.find_value(functions, fn f -> Enum.find_value(net, &(&1.driver == f.driver and {f, &1.name})) end) do
      {function, name} ->
        [
          info(
            "#{describe(device)}: its #{kind_name(function)} network function is #{name} " <>
              "(`data_path: :usb_net` uses it, renamed to the configured interface).",
            []
          )
        ]

      nil ->
        case Enum.reject(functions, &(&1.driver in drivers)) do
          [] ->
            []

          missing ->
            [
              info(
                "#{describe(device)} can carry data over USB networking (#{Enum.map_join(functions, ", ", &kind_name/1)}; " <>
                  "`data_path: :usb_net`), which needs " <>
                  Enum.map_join(missing, " or ", &"the #{&1.driver} driver (#{&1.kernel_option})") <>
                  "; without it, PPP is used.",
                Enum.map(missing, & &1.kernel_option)
              )
            ]
        end
    end
  end

  defp kind_name(function), do: VintageNetCellular.Connection.UsbNet.kind_name(function)

  # The interfaces that should carry AT ports: by role, else (no role known)
  # every vendor-class or CDC-ACM interface that isn't marked otherwise.
  defp serial_interfaces(device) do
    case Enum.filter(device.interfaces, &(&1[:role] in @at_roles)) do
      [] ->
        Enum.filter(device.interfaces, fn i ->
          i[:role] == nil and (i.class == 0xFF or (i.class == 0x02 and i[:subclass] == 0x02))
        end)

      serial ->
        serial
    end
  end

  defp unbound_error(device, unbound, system) do
    profile = device.profile
    usb_id = {device.vendor_id, device.product_id}
    numbers = Enum.map_join(unbound, ", ", &iface_number/1)
    what = "#{describe(device)} has no driver bound to its serial interfaces (#{numbers}), so it has no ttys."

    cond do
      Enum.all?(unbound, &(&1.class == 0x02)) or profile.serial_driver(usb_id) == :cdc_acm -> acm_error(what, system)
      profile.serial_driver(usb_id) == :qcserial -> qcserial_error(what, usb_id, system)
      true -> option_error(what, usb_id, profile, system)
    end
  end

  # Sierra EM74xx/MC74xx and other Qualcomm-layout cards: the qcserial
  # driver binds them (the option driver never does).
  defp qcserial_error(what, usb_id, system) do
    if "qcserial" in system.usb_serial_drivers or "qcserial" in system.usb_drivers do
      error(
        what <>
          " The qcserial (Qualcomm USB-serial) driver is loaded but did not claim it: this kernel's qcserial " <>
          "doesn't list #{ModemProfile.format_usb_id(usb_id)}. Use a kernel whose qcserial driver lists it (the " <>
          "option driver doesn't handle this modem).",
        ["CONFIG_USB_SERIAL_QUALCOMM"]
      )
    else
      error(
        what <>
          " This modem's serial ports are bound by the qcserial (Qualcomm USB-serial) driver, not by option: " <>
          "enable CONFIG_USB_SERIAL and CONFIG_USB_SERIAL_QUALCOMM in the kernel (or load the module with " <>
          "`modprobe qcserial`).",
        ["CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_QUALCOMM"]
      )
    end
  end

  defp option_error(what, usb_id, profile, system) do
    new_id = "`echo #{hex4(elem(usb_id, 0))} #{hex4(elem(usb_id, 1))} > /sys/bus/usb-serial/drivers/option1/new_id`"

    if "option1" in system.usb_serial_drivers or "option" in system.usb_drivers do
      error(
        what <>
          " The option driver is loaded but did not claim it: this kernel's option driver doesn't list " <>
          "#{ModemProfile.format_usb_id(usb_id)}. Add the id at run time with #{new_id} (e.g. from your " <>
          "application's start-up), or use a kernel whose option driver lists it.",
        ["CONFIG_USB_SERIAL_OPTION"]
      )
    else
      extra =
        if profile.driver_lists_usb_id?(usb_id),
          do: "",
          else: " If the option driver then still doesn't claim it (older kernels don't list this id), run #{new_id}."

      error(
        what <>
          " Enable the option USB-serial driver in the kernel: CONFIG_USB_SERIAL and " <>
          "CONFIG_USB_SERIAL_OPTION (or load the module with `modprobe option`)." <> extra,
        ["CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_OPTION"]
      )
    end
  end

  defp acm_error(what, system) do
    if "cdc_acm" in system.usb_drivers do
      error(
        what <>
          " The cdc_acm driver is loaded but didn't bind: unplug and replug the modem (or power-cycle it) " <>
          "and check `dmesg` for errors.",
        ["CONFIG_USB_ACM"]
      )
    else
      error(what <> " Enable the CDC-ACM driver in the kernel: CONFIG_USB_ACM (ttyACM ports).", ["CONFIG_USB_ACM"])
    end
  end

  defp no_at_port(device) do
    warning(
      "#{describe(device)} is present, but none of its interfaces is a known AT port. Set `at_tty` (and " <>
        "`ppp_tty`) in the configuration to the modem's AT and PPP ttys.",
      []
    )
  end

  defp partly_bound(device, unbound) do
    warning(
      "#{describe(device)}: #{interfaces_phrase(unbound)} no driver bound, so #{device.at_tty} has to " <>
        "carry both AT commands and PPP, and signal and status can't be read while PPP is up. Check `dmesg` " <>
        "for why the driver skipped them.",
      []
    )
  end

  defp healthy(%{at_tty: tty, ppp_tty: tty} = device) do
    info(
      "Found #{describe(device)}: AT commands and PPP share #{tty} (its only usable AT port), so signal " <>
        "and status can't be read while PPP is up.",
      []
    )
  end

  defp healthy(device) do
    info("Found #{describe(device)}: AT commands on #{device.at_tty}, PPP on #{device.ppp_tty}.", [])
  end

  defp qmi_info(device, iface) do
    info(
      "#{describe(device)}: its QMI network interface (#{iface_number(iface)}) has no driver, so there is no " <>
        "wwan0. That's fine for PPP, which doesn't use it; enable CONFIG_USB_NET_QMI_WWAN and CONFIG_USB_WDM " <>
        "only if you also want QMI.",
      ModemProfile.qmi_kernel_options()
    )
  end

  # ------------------------------------------------------------- mass-storage mode

  # Vendors whose modems first show a virtual CD-ROM: those of the shipped
  # profiles, and these, whose modems have no profile of their own.
  @storage_mode_vendors %{
    0x19D2 => "ZTE",
    0x1BBB => "Alcatel",
    0x1410 => "Novatel",
    0x0AF0 => "Option",
    0x05C6 => "Qualcomm-based"
  }

  defp modem_vendor?(%{vendor_id: vendor_id}) do
    Map.has_key?(@storage_mode_vendors, vendor_id) or
      Enum.any?(ModemProfile.all(), fn profile -> Enum.any?(profile.usb_ids(), &(elem(&1, 0) == vendor_id)) end)
  end

  defp storage_mode(device) do
    usb_id = ModemProfile.format_usb_id({device.vendor_id, device.product_id})

    error(
      "#{name(device)} (#{usb_id}) at USB #{device.usb_path} looks like a modem in mass-storage mode: it shows " <>
        "only a virtual CD-ROM (with Windows drivers on it) and no modem ports yet. It has to be switched to " <>
        "modem mode once after each power-up. Many Huawei sticks are switched by the kernel's own USB " <>
        "mass-storage driver: enable CONFIG_USB_STORAGE. Otherwise add usb_modeswitch (with its data for " <>
        "#{usb_id}) to the firmware and run it when the device appears; the modem then comes back with another " <>
        "USB id and its serial ports.",
      ["CONFIG_USB_STORAGE"]
    )
  end

  # ------------------------------------------------------------- no modem

  defp no_modem(devices) do
    adapters = Enum.filter(devices, &serial_adapter?/1)
    acm = Enum.filter(devices, &(not serial_adapter?(&1) and &1.at_tty != nil))
    unknown = Enum.filter(devices, &unbound_vendor_device?/1)

    notes =
      [
        adapters != [] &&
          "USB-serial adapters are present: #{Enum.map_join(adapters, "; ", &describe_with_ttys/1)}. If a " <>
            "modem is wired to one of them, set `at_tty` (and `ppp_tty`) in the configuration.",
        acm != [] &&
          "Serial devices this library doesn't know as modems: #{Enum.map_join(acm, "; ", &describe_with_ttys/1)}. " <>
            "If one is a modem, set `at_tty` to its tty.",
        unknown != [] &&
          "Vendor-specific USB devices with no driver bound: #{Enum.map_join(unknown, "; ", &describe/1)}. If " <>
            "one is a modem, it may be in another USB mode (e.g. a CD-ROM mode that usb_modeswitch changes) or " <>
            "its id may be new to the option driver: " <>
            Enum.map_join(unknown, "; ", fn d ->
              "`echo #{hex4(d.vendor_id)} #{hex4(d.product_id)} > /sys/bus/usb-serial/drivers/option1/new_id`"
            end) <> "."
      ]
      |> Enum.filter(&is_binary/1)

    message =
      Enum.join(
        [
          "No cellular modem found on USB. Check that the modem is powered (some modules also need their " <>
            "power key pulsed) and that its USB data lines are connected."
          | notes
        ],
        " "
      )

    error(message, if(unknown != [], do: ["CONFIG_USB_SERIAL_OPTION"], else: []))
  end

  @usb_serial_drivers ["ftdi_sio", "cp210x", "ch341", "pl2303", "usbserial_generic", "cypress_m8", "mos7840"]

  defp serial_adapter?(device) do
    Enum.any?(device.interfaces, &(&1.driver in @usb_serial_drivers))
  end

  defp unbound_vendor_device?(device) do
    not serial_adapter?(device) and device.at_tty == nil and
      Enum.any?(device.interfaces, &(&1.class == 0xFF)) and
      Enum.all?(device.interfaces, &(&1.class != 0xFF or &1.driver == nil))
  end

  # ------------------------------------------------------------- wording

  defp describe(device) do
    usb_id = ModemProfile.format_usb_id({device.vendor_id, device.product_id})
    "#{name(device)} (#{usb_id}) at USB #{device.usb_path}"
  end

  defp describe_with_ttys(device) do
    ttys = Enum.flat_map(device.interfaces, & &1.ttys)
    if ttys == [], do: describe(device), else: describe(device) <> " on " <> Enum.join(ttys, ", ")
  end

  defp name(%{profile: VintageNetCellular.Modem.Generic, port_table: %{model: model}}) when model != "",
    do: model

  defp name(%{profile: profile}) when profile != nil, do: profile.name()

  defp name(device) do
    [device[:manufacturer], device[:product]]
    |> Enum.filter(&is_binary/1)
    |> Enum.uniq()
    |> case do
      [] -> "USB device"
      parts -> Enum.join(parts, " ")
    end
  end

  defp interfaces_phrase([iface]), do: "serial interface #{iface_number(iface)} has"
  defp interfaces_phrase(ifaces), do: "serial interfaces #{Enum.map_join(ifaces, ", ", &iface_number/1)} have"

  defp iface_number(iface), do: iface.number |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(2, "0")
  defp hex4(n), do: n |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(4, "0")

  defp error(message, options), do: %{level: :error, message: message, kernel_options: options}
  defp warning(message, options), do: %{level: :warning, message: message, kernel_options: options}
  defp info(message, options), do: %{level: :info, message: message, kernel_options: options}
end
