defmodule VintageNetCellular.Discovery do
  @moduledoc """
  Finds USB modems and their ttys in sysfs (Rust, no libudev).

  `scan/1` returns one map per USB device that has at least one vendor-class
  (`ff`) or CDC (`02`, `0a`) interface, ordered by USB path ("1-1.2" before
  "1-1.10"):

      %{
        usb_path: "1-1.3",
        vendor_id: 0x2C7C,
        product_id: 0x0125,
        manufacturer: "Quectel",        # strings or nil
        product: "EG25-G",
        serial: "0123456789ABCDEF",
        interfaces: [
          %{number: 2, class: 0xFF, subclass: 0, protocol: 0, driver: "option",
            role: :at_primary, ttys: ["ttyUSB2"], net: []},
          ...
        ],
        at_tty: "ttyUSB2",              # primary AT port, or nil
        ppp_tty: "ttyUSB3",             # port to run PPP on, or nil
        port_table: %{plugin: "quectel", model: "Quectel EC25/EG25"},  # or nil
        profile: VintageNetCellular.Modem.QuectelEC25                  # or nil
      }

  ## How ports are found

  Modems are recognized by vid:pid and interface number, never by the
  strings they report. The kernel numbers ttys in probe order, so only the
  names are read from sysfs: a modem is found wherever its ports landed.

  Each interface's `role` comes from (first match wins):

  1. the profile's `c:VintageNetCellular.ModemProfile.port_roles/1` overrides;
  2. the port table generated from ModemManager's rules
     (`scripts/gen_tables.py`);
  3. the driver: an interface bound to `qmi_wwan` is `:qmi`;
  4. the interface class: CDC-ACM (02/02) ports are AT ports, and Huawei
     ports are AT (ff/01/02, ff/02/02) or PPP (ff/0x/01) by subclass and
     protocol. The lowest-numbered such AT port is the primary one unless the
     device already has one.

  `at_tty` is the primary AT port. `ppp_tty` is the port with the `:ppp` role,
  else a second AT port, so that status and signal queries keep working on
  `at_tty` while PPP runs. They are never the same tty when the modem has two
  usable AT ports; when it has just one (or only one has a driver bound),
  both name it. Interfaces without a driver have no tty and are passed over.

  `profile` is the `VintageNetCellular.ModemProfile` for the device: see
  `VintageNetCellular.ModemProfile.for_device/1`. The profiles consulted are
  `VintageNetCellular.ModemProfile.profiles/1`: the one passed as
  `profile:` (the interface's configured `modem:`), the application
  environment's `extra_profiles`, then the shipped ones; the first that
  lists a vid:pid gives its profile and its `port_roles/1` overrides. Devices without a profile
  (USB-serial adapters, unknown CDC-ACM boards) are still listed, so that
  diagnostics can mention them.

  ## Example

      iex> dir = Path.join(System.tmp_dir!(), "discovery-doctest-\#{System.unique_integer([:positive])}")
      iex> VintageNetCellular.SysfsFixture.build!(dir, [
      ...>   VintageNetCellular.SysfsFixture.usb_serial_adapter(:ftdi, usb_path: "1-1.2", tty: "ttyUSB0"),
      ...>   VintageNetCellular.SysfsFixture.modem(:ec25, usb_path: "1-1.3", tty_base: 1)
      ...> ])
      iex> [_ftdi, ec25] = VintageNetCellular.Discovery.scan(dir)
      iex> File.rm_rf!(dir)
      iex> {ec25.profile, ec25.at_tty, ec25.ppp_tty}
      {VintageNetCellular.Modem.QuectelEC25, "ttyUSB3", "ttyUSB4"}
  """

  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.Native

  @typedoc "One USB interface"
  @type interface() :: %{
          number: non_neg_integer(),
          class: non_neg_integer(),
          subclass: non_neg_integer() | nil,
          protocol: non_neg_integer() | nil,
          driver: String.t() | nil,
          role: ModemProfile.role() | nil,
          ttys: [String.t()],
          net: [String.t()]
        }

  @typedoc "One USB device with a vendor-class or CDC interface"
  @type device() :: %{
          usb_path: String.t(),
          vendor_id: 0..0xFFFF,
          product_id: 0..0xFFFF,
          manufacturer: String.t() | nil,
          product: String.t() | nil,
          serial: String.t() | nil,
          interfaces: [interface()],
          at_tty: String.t() | nil,
          ppp_tty: String.t() | nil,
          port_table: %{plugin: String.t(), model: String.t()} | nil,
          profile: module() | nil
        }

  @typedoc "Board-level USB facts, see `usb_system/1`"
  @type usb_system() :: %{
          host_controllers: [
            %{name: String.t(), bus: non_neg_integer(), product: String.t() | nil, driver: String.t() | nil}
          ],
          udcs: [%{name: String.t(), driver: String.t() | nil, state: String.t() | nil}],
          storage_devices: [
            %{
              usb_path: String.t(),
              vendor_id: 0..0xFFFF,
              product_id: 0..0xFFFF,
              manufacturer: String.t() | nil,
              product: String.t() | nil,
              driver: String.t() | nil
            }
          ],
          usb_drivers: [String.t()],
          usb_serial_drivers: [String.t()]
        }

  @doc """
  Scans `sysfs_root` for USB devices with vendor-class or CDC interfaces.

  Options:

  * `:profile`: a profile module consulted before all others (the
    interface's `modem:`), or `:auto` (the default) for none.

  Never raises on odd trees: unreadable entries are skipped. A missing root
  gives `[]`.
  """
  @spec scan(Path.t(), keyword()) :: [device()]
  def scan(sysfs_root \\ "/sys", opts \\ []) when is_binary(sysfs_root) and is_list(opts) do
    profiles = ModemProfile.profiles(Keyword.get(opts, :profile, :auto))
    index = ModemProfile.usb_id_index(profiles)

    sysfs_root
    |> Native.discovery_scan(ModemProfile.role_overrides(profiles))
    |> Enum.map(fn device -> Map.put(device, :profile, ModemProfile.for_device(device, index)) end)
  end

  @doc """
  The devices of a scan that have a modem profile.
  """
  @spec modems([device()]) :: [device()]
  def modems(devices), do: Enum.filter(devices, &(&1.profile != nil))

  @doc """
  Board-level USB facts from `sysfs_root`:

  * `host_controllers`: the root hubs `usbN`, with the controller's driver
    (e.g. "xhci-hcd", "dwc2");
  * `udcs`: device-mode (gadget) controllers in `class/udc`, with driver and state;
  * `storage_devices`: USB devices whose interfaces are all mass storage
    (class 08), such as a flash drive or a modem that still shows its
    virtual CD-ROM and waits for usb_modeswitch;
  * `usb_drivers`, `usb_serial_drivers`: the drivers registered in
    `bus/usb/drivers` and `bus/usb-serial/drivers` (built in or loaded).
  """
  @spec usb_system(Path.t()) :: usb_system()
  def usb_system(sysfs_root \\ "/sys") when is_binary(sysfs_root) do
    Native.discovery_usb_system(sysfs_root)
  end
end
