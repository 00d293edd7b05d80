defmodule VintageNetCellular.ModemProfile do
  @moduledoc """
  The behaviour of a modem family: one module per family under
  `VintageNetCellular.Modem`, carrying what differs between vendors so that no
  other code asks "which model is this?".

  A profile names its USB ids (vid:pid), may override the role of an
  interface (the roles themselves come from the port table generated from
  ModemManager's rules, see `VintageNetCellular.Discovery`), and lists the
  kernel options the modem needs.

  Modems are identified by vid:pid and interface number only, never by the
  product strings a modem reports (an EC25 may call itself "Android").

  ## Writing a profile

  `use VintageNetCellular.ModemProfile` declares the behaviour and provides
  a default for every callback except `c:name/0`; override what differs:

      defmodule MyApp.Modem.Foo do
        use VintageNetCellular.ModemProfile

        @impl true
        def name, do: "Foo F100"

        @impl true
        def usb_ids, do: [{0x1234, 0x5678}]

        # 02 is the AT port, 03 the port PPP dials on, 04 the QMI network interface
        @impl true
        def port_roles({0x1234, 0x5678}), do: %{2 => :at_primary, 3 => :ppp, 4 => :qmi}
      end

  A family module does most of it: `use VintageNetCellular.Modem.Quectel`
  (or `VintageNetCellular.Modem.SIMCom`) brings the family's commands, and
  its `c:port_table_plugins/0`.

  Discovery consults, in this order (the first that lists a vid:pid wins,
  and its `c:port_roles/1` override the port table's):

  1. the profile the interface is configured with (`modem: MyApp.Modem.Foo`);
  2. the profiles of the application environment's `:extra_profiles`:

         config :vintage_net_cellular, extra_profiles: [MyApp.Modem.Foo]

     (found by every interface with `modem: :auto`, and by
     `VintageNetCellular.diagnose/0`);
  3. the shipped profiles (`all/0`).

  ## Shipped profiles

      iex> VintageNetCellular.ModemProfile.for_usb_id(0x2C7C, 0x0125)
      VintageNetCellular.Modem.QuectelEC25
      iex> VintageNetCellular.ModemProfile.for_usb_id(0x0403, 0x6001)
      nil
      iex> VintageNetCellular.Modem.QuectelEC25.name()
      "Quectel EC25/EG25"
  """

  @typedoc "A USB vendor id and product id"
  @type usb_id() :: {vendor_id :: 0..0xFFFF, product_id :: 0..0xFFFF}

  @typedoc """
  The role of a modem interface:

  * `:at_primary`: the main AT command port;
  * `:at_secondary`: another AT port;
  * `:ppp`: the AT port to dial PPP on;
  * `:gps` (NMEA), `:qcdm` (Qualcomm diagnostics), `:audio`: not for AT;
  * `:qmi`: the QMI network interface (wwan0), never needed for PPP;
  * `:ignore`: known, not to be used.
  """
  @type role() :: :at_primary | :at_secondary | :ppp | :gps | :qcdm | :audio | :qmi | :ignore

  @typedoc "A kernel driver of modem serial ports, see `c:serial_driver/1`"
  @type serial_driver() :: :option | :qcserial | :cdc_acm

  @roles [:at_primary, :at_secondary, :ppp, :gps, :qcdm, :audio, :qmi, :ignore]

  # ---------------------------------------------------------------- callbacks
  # Every callback lives here; `__using__/1` below provides the defaults.

  @doc "A short human name of the family, e.g. \"Quectel EC25/EG25\"."
  @callback name() :: String.t()

  @doc "The USB ids this profile handles. Empty for profiles chosen only by configuration."
  @callback usb_ids() :: [usb_id()]

  @doc """
  Role overrides for one of `c:usb_ids/0`, by interface number, applied over
  the generated port table. Default: `%{}` (the table is right).
  """
  @callback port_roles(usb_id()) :: %{optional(non_neg_integer()) => role()}

  @doc """
  The port-table plugins (ModemManager's plugin names, e.g. `"quectel"`,
  `"telit"`, as in `VintageNetCellular.Discovery`'s `port_table.plugin`)
  of this profile's family. An interface configured with this profile
  (`modem: ThisProfile`) also drives devices the port table knows for these
  plugins, with their table roles, besides its own `c:usb_ids/0`: this is
  how `modem: VintageNetCellular.Modem.TelitLE910` drives a Telit ME910C1
  that the table knows and no profile lists. `:all` (the
  `VintageNetCellular.Modem.Generic` profile's) is every device the table
  knows, and unknown devices of every modem vendor (probed). Default: `[]`
  (only `c:usb_ids/0`).
  """
  @callback port_table_plugins() :: [String.t()] | :all

  @doc """
  Kernel options the modem needs for PPP: its serial driver and PPP itself.
  Default: `CONFIG_PPP`, `CONFIG_PPP_ASYNC`, `CONFIG_USB_SERIAL`,
  `CONFIG_USB_SERIAL_OPTION`.
  """
  @callback kernel_options() :: [String.t()]

  @doc """
  Kernel options for extras PPP doesn't need, such as the QMI network
  interface (`CONFIG_USB_NET_QMI_WWAN`, `CONFIG_USB_WDM`). Default: `[]`.
  """
  @callback optional_kernel_options() :: [String.t()]

  @doc """
  The kernel driver that binds the serial interfaces of `usb_id`:
  `:option` (usb-serial, ttyUSB*), `:qcserial` (Qualcomm usb-serial,
  ttyUSB*, e.g. Sierra EM74xx/MC74xx) or `:cdc_acm` (ttyACM*). Default:
  `:option`.
  """
  @callback serial_driver(usb_id()) :: serial_driver()

  @doc """
  Whether the mainline kernel's driver lists `usb_id` (so enabling the driver
  is enough). When `false`, diagnostics also explain how to add the id at run
  time through the driver's `new_id` file. Default: `true`.
  """
  @callback driver_lists_usb_id?(usb_id()) :: boolean()

  @doc """
  AT commands that make the modem push signal changes as URCs the monitor
  follows (`+CSQ: ...` or Quectel `+QIND: "csq",...`), e.g. Quectel
  `AT+QINDCFG="csq",1,0`, SIMCom `AT+AUTOCSQ=1,1`. When all of them answer OK,
  `VintageNetCellular.Monitor` stops polling `AT+CSQ`. Default: `[]`.
  """
  @callback signal_urc_commands() :: [String.t()]

  @doc """
  Signal reads the monitor polls every `signal_poll_ms` besides `AT+CSQ`
  (LTE RSRP/RSRQ/SINR), e.g. Quectel `AT+QCSQ`, SIMCom `AT+CPSI?`.
  Default: `["AT+CESQ"]` (27.007).
  """
  @callback signal_commands() :: [String.t()]

  @doc """
  Serving-cell reads (access technology, PLMN, band, channel) the monitor polls
  every `cell_poll_ms` and after each registration change, e.g. Quectel
  `AT+QNWINFO`, SIMCom `AT+CPSI?`. Default: `[]`.
  """
  @callback cell_info_commands() :: [String.t()]

  @doc """
  What one of the family's signal or cell reads stands for in the monitor's
  facts (`VintageNetCellular.Monitor.Facts.forget/2`): a read that answers
  `OK` without its report line means the modem has nothing there now, and
  those facts are dropped (`VintageNetCellular.Monitor.Facts.forget/2`: `:vendor_lte`, the vendor's LTE
  measurement; `:vendor`, its serving cell). E.g. Quectel `"AT+QCSQ"` is `[:vendor_lte]` and
  `"AT+QNWINFO"` `[:vendor]`, SIMCom `"AT+CPSI?"` `[:vendor_lte, :vendor]`.
  27.007's reads (`AT+CSQ`, `AT+CESQ`, `AT+COPS?`) are known without it.
  Default: `[]` for every command.
  """
  @callback read_sources(String.t()) :: [atom()]

  @doc """
  What one of the family's own report lines (an answer to its signal or
  cell commands, or such a URC) stands for, in the neutral terms of
  `t:VintageNetCellular.Monitor.Facts.report/0`: the serving cell, the LTE
  measurement, the radio measured on, the network time. `nil` when `parsed` is not one of the
  family's reports (27.007 lines are known without it). E.g. Quectel
  `+QCSQ: "LTE",-52,-81,195,-10` is an LTE measurement and the radio
  `"LTE"`; SIMCom `+CPSI: ...` is all three. Default: `nil` for every line.
  """
  @callback report_facts(VintageNetCellular.AT.parsed()) :: [VintageNetCellular.Monitor.Facts.report()] | nil

  @doc """
  AT commands that make the modem push network time (NITZ) as URCs the
  monitor follows (`+CTZE: <tz>,<dst>,<time>` or `+CTZV: <tz>`). Sent at
  each monitor setup; a command the modem refuses three times is not sent
  again. Default: `["AT+CTZR=2"]` (27.007 extended time zone reporting).
  """
  @callback network_time_urc_commands() :: [String.t()]

  @doc """
  Reads of the last network time, sent once at each monitor setup (a URC
  sent before the monitor started is lost), e.g. Quectel `AT+QLTS`
  (`+QLTS: "<UTC time><tz>,<dst>"`). Default: `[]`.
  """
  @callback network_time_commands() :: [String.t()]

  # Commands of the connection manager (VintageNetCellular.Connection).

  @typedoc """
  A setting the connection manager applies only when it differs: send
  `query`; unless an answer line matches `expected` (the line without spaces
  and letter case, or a `Regex`), send `set` (one command or several in
  order). See `VintageNetCellular.ModemProfile.Commands`.
  """
  @type setting() :: VintageNetCellular.ModemProfile.Commands.setting()

  @doc """
  AT commands sent after `ATE0` and `AT+CMEE=2` each time the modem is set
  up, e.g. Quectel `AT+QURCCFG="urcport","usbat"` (URCs on the AT port).
  A failure is logged and the setup goes on. Default: `[]`.
  """
  @callback init_commands() :: [String.t()]

  @doc """
  The command that reads the SIM's ICCID: Quectel `AT+QCCID`, SIMCom
  SIM7600/A7600 `AT+CICCID`, Telit `AT#CCID`, Huawei `AT^ICCID?`.
  Default: `"AT+CCID"`.
  """
  @callback iccid_command() :: String.t()

  @doc """
  The command that reads how many SIM PIN attempts are left, answered with
  `+CPINR`, `+QPINC` or `+SPIC` lines (see
  `VintageNetCellular.Connection.SIM.pin_attempts/1`), or `nil` when the
  family has none. The connection manager reads it before it sends a PIN
  and never sends one when a single attempt is left. Default (27.007):
  `AT+CPINR="SIM PIN"`; Quectel `AT+QPINC="SC"`, SIMCom `AT+SPIC`.
  """
  @callback pin_attempts_command() :: String.t() | nil

  @doc """
  Line prefixes this family sends unsolicited beyond 3GPP's (with their
  colon, e.g. `"+QIND:"`, or a leading word such as `"^SYSSTART"`). The line
  engine takes them for URCs even while a command is pending (they are
  passed to `VintageNetCellular.ATPort` as `:urc_prefixes`), and the property
  monitor subscribes to them. Default: `[]` (27.007's URCs are always known).
  """
  @callback urc_prefixes() :: [String.t()]

  @doc """
  URC prefixes (without the colon) that mean the SIM was pulled out, beyond
  27.007's `+CPIN: NOT INSERTED`/`NOT READY`, e.g. SIMCom `"+SIMCARD"`
  (`+SIMCARD: NOT AVAILABLE`). Default: `[]`.
  """
  @callback sim_removed_urcs() :: [String.t()]

  @doc """
  The 27.007 form of one of the family's own URCs, so that the connection
  manager and the property monitor only ever handle standard facts: Quectel
  `+QIND: "csq",21,99` is `{:csq, %{rssi: 21, ber: 99}}`, SIMCom
  `+SIMCARD: NOT AVAILABLE` is `{:cpin, %{state: :sim_removed}}`. Any other
  parsed URC is returned as it is. Default: the identity.
  """
  @callback translate_urc(VintageNetCellular.AT.parsed()) :: VintageNetCellular.AT.parsed()

  @doc "The PDP context id pppd dials (`ATD*99***<cid>#`). Default: 1."
  @callback pdp_cid() :: 1..99

  @doc """
  The `AT+CGAUTH=` write for `cid`, the 27.007 `auth_prot` (0 none, 1 PAP,
  2 CHAP, 3 PAP or CHAP), username and password. Default: the 27.007 order
  `AT+CGAUTH=<cid>,<auth>,"<user>","<password>"`; SIMCom SIM7600/A7600 take
  the password first.
  """
  @callback cgauth_command(pos_integer(), 0..3, String.t() | nil, String.t() | nil) :: String.t()

  @doc """
  The roaming setting for a provider's `roaming_allowed?` (`nil`: leave the
  modem's setting alone, return `[]`). Default: `[]` (the family has no
  roaming switch; the connection manager still refuses to dial on a roaming
  registration when `roaming_allowed?` is `false`).
  """
  @callback roaming_settings(boolean() | nil) :: [setting()]

  @doc """
  The radio technology setting for `only_radio_technologies` (`nil`: leave
  the modem's setting alone, return `[]`). Default: `[]`.
  """
  @callback radio_settings([atom()] | nil) :: [setting()]

  @typedoc """
  How the connection manager ends a data call left up (see `c:end_call/1`):

  * `{:at_port, commands}`: send `commands`, in order, on the AT port (which
    is not the port the call is on when the modem has a PPP port of its own),
    e.g. `["AT+CGACT=0,1"]`: the modem ends the call, answers `NO CARRIER`
    on the PPP port and leaves data mode there.
  """
  @type end_call() :: {:at_port, [String.t(), ...]}

  @doc """
  How to end a data call on context `cid` that is still up when the modem is
  set up.

  pppd that is stopped (or killed) doesn't always end the call: on a USB
  modem that ignores DTR, or when pppd can't drop it, the modem stays in
  data mode on its PPP port, swallows the next dial's `AT`, and no dial
  succeeds until the call ends. So before it dials, the connection manager
  reads which contexts are active (`AT+CGACT?`, on the SIM line of
  `VintageNetCellular.Connection.Compound`); when the context it dials is,
  it ends the call this way. A failure is logged and the setup goes on (on
  LTE the default bearer may show the context active with no call at all,
  and a modem may refuse to deactivate it; the dial then activates it again).

  Default (3GPP TS 27.007): `{:at_port, ["AT+CGACT=0,<cid>"]}`, deactivate
  the context from the AT port.

  A modem with a single port (AT and PPP on one tty) that is still in data
  mode answers nothing, so no command can reach it: there the connection
  manager uses the V.250 escape (`+++` between guard times, then `ATH`)
  before this check.
  """
  @callback end_call(1..99) :: end_call()

  @doc """
  The USB network functions the modem offers under `usb_id`, fastest first,
  for data on PDP context `cid` (see `VintageNetCellular.ModemProfile.UsbNet`
  for the map and the vendors' commands). The connection manager uses them
  when the interface's `data_path` is `:usb_net` or `:auto`. Default: `[]`
  (PPP only).
  """
  @callback usb_net_functions(usb_id(), 1..99) :: [VintageNetCellular.ModemProfile.UsbNet.function_spec()]

  @typedoc """
  How the family multiplexes one serial port (3GPP TS 27.010, see
  `c:cmux/0`): `command` enters the multiplexer (27.007 `AT+CMUX`),
  `n1` is the largest information field it sets, and `default?` says whether
  `cmux: :auto` turns it on for a single-port modem of the family.
  """
  @type cmux() :: %{command: String.t(), n1: pos_integer(), default?: boolean()}

  @doc """
  How the family multiplexes one serial port (used only for a modem whose
  AT and PPP share one tty). Default: `AT+CMUX=0,0,5,127` (basic mode, UIH
  frames, 115200 bit/s, N1 127), not on by default: a profile turns
  `default?` on where the multiplexer is known to work.
  """
  @callback cmux() :: cmux()

  @doc false
  defmacro __using__(_opts) do
    quote do
      @behaviour VintageNetCellular.ModemProfile

      @impl VintageNetCellular.ModemProfile
      def usb_ids, do: []

      @impl VintageNetCellular.ModemProfile
      def port_roles(_usb_id), do: %{}

      @impl VintageNetCellular.ModemProfile
      def port_table_plugins, do: []

      @impl VintageNetCellular.ModemProfile
      def kernel_options, do: VintageNetCellular.ModemProfile.default_kernel_options()

      @impl VintageNetCellular.ModemProfile
      def optional_kernel_options, do: []

      @impl VintageNetCellular.ModemProfile
      def serial_driver(_usb_id), do: :option

      @impl VintageNetCellular.ModemProfile
      def driver_lists_usb_id?(_usb_id), do: true

      @impl VintageNetCellular.ModemProfile
      def signal_urc_commands, do: []

      @impl VintageNetCellular.ModemProfile
      def signal_commands, do: ["AT+CESQ"]

      @impl VintageNetCellular.ModemProfile
      def cell_info_commands, do: []

      @impl VintageNetCellular.ModemProfile
      def read_sources(_command), do: []

      @impl VintageNetCellular.ModemProfile
      def report_facts(_parsed), do: nil

      @impl VintageNetCellular.ModemProfile
      def network_time_urc_commands, do: ["AT+CTZR=2"]

      @impl VintageNetCellular.ModemProfile
      def network_time_commands, do: []

      @impl VintageNetCellular.ModemProfile
      def init_commands, do: []

      @impl VintageNetCellular.ModemProfile
      def iccid_command, do: "AT+CCID"

      @impl VintageNetCellular.ModemProfile
      def pin_attempts_command, do: ~s(AT+CPINR="SIM PIN")

      @impl VintageNetCellular.ModemProfile
      def urc_prefixes, do: []

      @impl VintageNetCellular.ModemProfile
      def sim_removed_urcs, do: []

      @impl VintageNetCellular.ModemProfile
      def translate_urc(parsed), do: parsed

      @impl VintageNetCellular.ModemProfile
      def pdp_cid, do: 1

      @impl VintageNetCellular.ModemProfile
      def cgauth_command(cid, auth, username, password),
        do: VintageNetCellular.Connection.PDP.cgauth_command(cid, auth, username, password)

      @impl VintageNetCellular.ModemProfile
      def roaming_settings(_allowed?), do: []

      @impl VintageNetCellular.ModemProfile
      def radio_settings(_radio_technologies), do: []

      @impl VintageNetCellular.ModemProfile
      def end_call(cid), do: VintageNetCellular.ModemProfile.default_end_call(cid)

      @impl VintageNetCellular.ModemProfile
      def usb_net_functions(_usb_id, _cid), do: []

      @impl VintageNetCellular.ModemProfile
      def cmux, do: %{command: "AT+CMUX=0,0,5,127", n1: 127, default?: false}

      defoverridable init_commands: 0,
                     end_call: 1,
                     usb_net_functions: 2,
                     cmux: 0,
                     iccid_command: 0,
                     pin_attempts_command: 0,
                     urc_prefixes: 0,
                     sim_removed_urcs: 0,
                     translate_urc: 1,
                     pdp_cid: 0,
                     cgauth_command: 4,
                     roaming_settings: 1,
                     radio_settings: 1

      defoverridable usb_ids: 0,
                     port_roles: 1,
                     port_table_plugins: 0,
                     kernel_options: 0,
                     optional_kernel_options: 0,
                     serial_driver: 1,
                     driver_lists_usb_id?: 1,
                     signal_urc_commands: 0,
                     signal_commands: 0,
                     cell_info_commands: 0,
                     read_sources: 1,
                     report_facts: 1,
                     network_time_urc_commands: 0,
                     network_time_commands: 0
    end
  end

  # ---------------------------------------------------------------- registry

  @profiles [
    VintageNetCellular.Modem.QuectelEC25,
    VintageNetCellular.Modem.QuectelEG95,
    VintageNetCellular.Modem.QuectelBG96,
    VintageNetCellular.Modem.QuectelEC21,
    VintageNetCellular.Modem.QuectelBG95,
    VintageNetCellular.Modem.QuectelEG91,
    VintageNetCellular.Modem.QuectelEM05,
    VintageNetCellular.Modem.QuectelRM5xx,
    VintageNetCellular.Modem.SIMCom7600,
    VintageNetCellular.Modem.SIMCom7000,
    VintageNetCellular.Modem.SIMCom7080,
    VintageNetCellular.Modem.SIMComA7600,
    VintageNetCellular.Modem.SierraEM74xx,
    VintageNetCellular.Modem.TelitLE910,
    VintageNetCellular.Modem.TelitME910,
    VintageNetCellular.Modem.UbloxLara,
    VintageNetCellular.Modem.UbloxSara,
    VintageNetCellular.Modem.HuaweiE3372,
    VintageNetCellular.Modem.HuaweiME909,
    VintageNetCellular.Modem.FibocomFM150,
    VintageNetCellular.Modem.Generic
  ]

  @doc """
  The shipped profiles, in a stable order (`VintageNetCellular.Modem.Generic` last).
  """
  @spec all() :: [module()]
  def all(), do: @profiles

  @doc """
  The extra profiles of the application environment, in order:

      config :vintage_net_cellular, extra_profiles: [MyApp.Modem.BG95]

  Each must be a loaded module with `usb_ids/0` (a
  `VintageNetCellular.ModemProfile`); anything else is left out with a
  warning (once per value), so that a typo there never stops discovery.
  """
  @spec extra_profiles() :: [module()]
  def extra_profiles() do
    case Application.get_env(:vintage_net_cellular, :extra_profiles, []) do
      list when is_list(list) ->
        Enum.filter(list, fn profile ->
          profile?(profile) or warn_bad_profile(profile)
        end)

      other ->
        warn_bad_profile(other)
        []
    end
  end

  @doc """
  The profiles discovery consults, first match first: the configured
  `profile` (a module, or `:auto`/nil for none), the `extra_profiles/0`, then
  the shipped ones (`all/0`), each once.

      iex> VintageNetCellular.ModemProfile.profiles(:auto) == VintageNetCellular.ModemProfile.all()
      true
      iex> VintageNetCellular.ModemProfile.profiles(VintageNetCellular.Modem.TelitLE910) |> hd()
      VintageNetCellular.Modem.TelitLE910
  """
  @spec profiles(module() | :auto | nil) :: [module()]
  def profiles(configured \\ :auto) do
    first = if configured not in [nil, :auto] and profile?(configured), do: [configured], else: []
    Enum.uniq(first ++ extra_profiles() ++ @profiles)
  end

  @doc """
  Whether `module` is a loaded modem profile (it exports `usb_ids/0`).

      iex> VintageNetCellular.ModemProfile.profile?(VintageNetCellular.Modem.QuectelEC25)
      true
      iex> VintageNetCellular.ModemProfile.profile?(String)
      false
  """
  @spec profile?(any()) :: boolean()
  def profile?(module) when is_atom(module) and module not in [nil, true, false] do
    Code.ensure_loaded?(module) and function_exported?(module, :usb_ids, 0)
  end

  def profile?(_other), do: false

  @doc """
  Calls `profile`'s callback `fun` with `args` when `profile` is a loaded
  module that exports it (a profile written before the callback existed may
  not), and returns `default` otherwise, or for a nil profile.

      iex> alias VintageNetCellular.ModemProfile
      iex> ModemProfile.call(VintageNetCellular.Modem.QuectelEC25, :iccid_command, [], "AT+CCID")
      "AT+QCCID"
      iex> ModemProfile.call(String, :iccid_command, [], "AT+CCID")
      "AT+CCID"
      iex> ModemProfile.call(nil, :iccid_command, [], "AT+CCID")
      "AT+CCID"
  """
  @spec call(module() | nil, atom(), [term()], term()) :: term()
  def call(profile, fun, args, default) when is_atom(profile) and profile not in [nil, true, false] do
    if Code.ensure_loaded?(profile) and function_exported?(profile, fun, length(args)),
      do: apply(profile, fun, args),
      else: default
  end

  def call(_profile, _fun, _args, default), do: default

  @doc """
  `profile`'s callback `fun/arity` as a function, looked up once (for a hot
  path), or `default` when `profile` doesn't export it or is nil; the same
  rule as `call/4`.

      iex> alias VintageNetCellular.ModemProfile
      iex> translate = ModemProfile.callback(VintageNetCellular.Modem.QuectelEC25, :translate_urc, 1, &Function.identity/1)
      iex> translate.({:unknown, %{prefix: "+QIND", fields: ["csq", "21", "99"]}})
      {:csq, %{rssi: 21, ber: 99}}
      iex> ModemProfile.callback(nil, :translate_urc, 1, &Function.identity/1).({:csq, %{rssi: 3, ber: 99}})
      {:csq, %{rssi: 3, ber: 99}}
  """
  @spec callback(module() | nil, atom(), arity(), function()) :: function()
  def callback(profile, fun, arity, default) when is_atom(profile) and profile not in [nil, true, false] do
    if Code.ensure_loaded?(profile) and function_exported?(profile, fun, arity),
      do: Function.capture(profile, fun, arity),
      else: default
  end

  def callback(_profile, _fun, _arity, default), do: default

  @doc """
  The port-table plugins of a profile's family
  (`c:port_table_plugins/0`; `[]` for a module without that callback).

      iex> VintageNetCellular.ModemProfile.plugins_of(VintageNetCellular.Modem.QuectelEC25)
      ["quectel"]
      iex> VintageNetCellular.ModemProfile.plugins_of(VintageNetCellular.Modem.Generic)
      :all
      iex> VintageNetCellular.ModemProfile.plugins_of(VintageNetCellular.Modem.HuaweiE3372)
      []
  """
  @spec plugins_of(module()) :: [String.t()] | :all
  def plugins_of(profile) do
    if profile?(profile) and function_exported?(profile, :port_table_plugins, 0),
      do: profile.port_table_plugins(),
      else: []
  end

  @doc """
  Whether `vendor_id` is a modem vendor: the port table lists it, or one of
  `profiles` does. The unknown ports of such a vendor's devices are worth
  probing with `AT`.

      iex> VintageNetCellular.ModemProfile.modem_vendor?(0x2C7C)
      true
      iex> VintageNetCellular.ModemProfile.modem_vendor?(0x2341)
      false
  """
  @spec modem_vendor?(0..0xFFFF, [module()]) :: boolean()
  def modem_vendor?(vendor_id, profiles \\ @profiles) do
    vendor_id in table_vendors() or Enum.any?(profiles, &(vendor_id in vendors_of(&1)))
  end

  @doc """
  The vendor ids of a profile's `c:usb_ids/0`.

      iex> VintageNetCellular.ModemProfile.vendors_of(VintageNetCellular.Modem.UbloxLara)
      [0x1546, 0x05C6]
  """
  @spec vendors_of(module()) :: [0..0xFFFF]
  def vendors_of(profile), do: profile.usb_ids() |> Enum.map(&elem(&1, 0)) |> Enum.uniq()

  # The port table's vendors, read once from the NIF.
  defp table_vendors() do
    case :persistent_term.get({__MODULE__, :table_vendors}, nil) do
      nil ->
        vendors = MapSet.new(VintageNetCellular.Native.discovery_table_vendors())
        :persistent_term.put({__MODULE__, :table_vendors}, vendors)
        vendors

      vendors ->
        vendors
    end
  end

  # Said once per value: discovery asks at every scan.
  defp warn_bad_profile(value) do
    require Logger
    key = {__MODULE__, :warned, value}

    unless :persistent_term.get(key, false) do
      :persistent_term.put(key, true)

      Logger.warning(
        "[vintage_net_cellular] extra_profiles: #{inspect(value)} is not a modem profile (a loaded module with usb_ids/0); left out"
      )
    end

    false
  end

  @doc "The role names, as atoms."
  @spec roles() :: [role()]
  def roles(), do: @roles

  @doc """
  The kernel options every `:option`-driver modem needs for PPP.

      iex> VintageNetCellular.ModemProfile.default_kernel_options()
      ["CONFIG_PPP", "CONFIG_PPP_ASYNC", "CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_OPTION"]
  """
  @spec default_kernel_options() :: [String.t()]
  def default_kernel_options() do
    ["CONFIG_PPP", "CONFIG_PPP_ASYNC", "CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_OPTION"]
  end

  @doc """
  The 3GPP TS 27.007 way to end a data call on `cid`: deactivate its context
  from the AT port.

      iex> VintageNetCellular.ModemProfile.default_end_call(1)
      {:at_port, ["AT+CGACT=0,1"]}
  """
  @spec default_end_call(1..99) :: end_call()
  def default_end_call(cid) when is_integer(cid) and cid in 1..99, do: {:at_port, ["AT+CGACT=0,#{cid}"]}

  @doc """
  The kernel options of the QMI network interface (wwan0), which PPP doesn't need.
  """
  @spec qmi_kernel_options() :: [String.t()]
  def qmi_kernel_options(), do: ["CONFIG_USB_NET_QMI_WWAN", "CONFIG_USB_WDM"]

  @doc """
  The shipped profile that lists this vid:pid, or nil.
  """
  @spec for_usb_id(0..0xFFFF, 0..0xFFFF) :: module() | nil
  def for_usb_id(vendor_id, product_id) do
    Enum.find(@profiles, fn profile -> {vendor_id, product_id} in profile.usb_ids() end)
  end

  @doc """
  The profile for a device found by `VintageNetCellular.Discovery`: the
  shipped profile listing its vid:pid; else `VintageNetCellular.Modem.Generic`
  when the generated port table knows the device (a modem of a family without
  a profile of its own); else nil (a USB-serial adapter, an unknown CDC-ACM
  device such as a microcontroller board, ...).

      iex> VintageNetCellular.ModemProfile.for_device(%{vendor_id: 0x1E0E, product_id: 0x9206})
      VintageNetCellular.Modem.SIMCom7080
      iex> VintageNetCellular.ModemProfile.for_device(%{vendor_id: 0x2C7C, product_id: 0x0306, port_table: %{plugin: "quectel", model: "Quectel EG06"}})
      VintageNetCellular.Modem.Generic
      iex> VintageNetCellular.ModemProfile.for_device(%{vendor_id: 0x2341, product_id: 0x0043, port_table: nil})
      nil
  """
  @spec for_device(map(), %{usb_id() => module()} | nil) :: module() | nil
  def for_device(%{vendor_id: vendor_id, product_id: product_id} = device, index \\ nil) do
    profile =
      if index,
        do: Map.get(index, {vendor_id, product_id}),
        else: for_usb_id(vendor_id, product_id)

    case profile do
      nil -> if Map.get(device, :port_table), do: VintageNetCellular.Modem.Generic, else: nil
      profile -> profile
    end
  end

  @doc """
  The profiles by USB id (the shipped ones by default; the first of
  `profiles` that lists an id wins), for looking up many devices at once
  (pass it to `for_device/2`).
  """
  @spec usb_id_index([module()]) :: %{usb_id() => module()}
  def usb_id_index(profiles \\ @profiles) do
    for profile <- Enum.reverse(profiles), usb_id <- profile.usb_ids(), into: %{}, do: {usb_id, profile}
  end

  @doc """
  The role overrides of `profiles` (the shipped ones by default; the first
  that lists an id wins), as `VintageNetCellular.Native.discovery_scan/2`
  takes them: `{vendor_id, product_id, interface_number, role_name}`.
  """
  @spec role_overrides([module()]) :: [{0..0xFFFF, 0..0xFFFF, 0..255, String.t()}]
  def role_overrides(profiles \\ @profiles) do
    index = usb_id_index(profiles)

    for profile <- profiles,
        {vid, pid} = usb_id <- profile.usb_ids(),
        Map.get(index, usb_id) == profile,
        {number, role} <- Enum.sort(profile.port_roles(usb_id)),
        do: {vid, pid, number, Atom.to_string(role)}
  end

  @doc """
  A short description of a USB id, e.g. "2c7c:0125".

      iex> VintageNetCellular.ModemProfile.format_usb_id({0x2C7C, 0x125})
      "2c7c:0125"
  """
  @spec format_usb_id(usb_id()) :: String.t()
  def format_usb_id({vendor_id, product_id}) do
    hex4(vendor_id) <> ":" <> hex4(product_id)
  end

  defp hex4(n), do: n |> Integer.to_string(16) |> String.downcase() |> String.pad_leading(4, "0")
end
