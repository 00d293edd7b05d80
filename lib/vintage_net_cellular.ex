defmodule VintageNetCellular do
  @moduledoc """
  A VintageNet technology that puts a Nerves device online through a USB (or
  UART) cellular modem over PPP.

  The modem is found by itself wherever its ttys landed, the service provider
  (APN) is chosen by the SIM's ICCID, the modem is set up over its AT port,
  pppd dials on the other port, and every step says what is wrong when it
  can't go on.

  ## Quick start

  Add `{:vintage_net, "~> 0.13"}` and this library to your dependencies, and
  make sure your Nerves system has PPP (see `check_system/1`). Then:

      iex> VintageNetCellular.quick_configure("internet")
      :ok

  which is short for:

      VintageNet.configure("ppp0", %{
        type: VintageNetCellular,
        vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}
      })

  Watch it come up:

      iex> VintageNet.get(["interface", "ppp0", "mobile", "state"])
      :registering
      iex> VintageNet.get(["interface", "ppp0", "mobile", "reason"])
      "searching for a network to register on"
      iex> VintageNet.get(["interface", "ppp0", "connection"])
      :internet

  ## Configuration

      %{
        type: VintageNetCellular,
        vintage_net_cellular: %{
          modem: :auto,
          service_providers: [
            %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
            %{apn: "super", username: "u", password: "p", auth: :chap, pdp_type: :ipv4v6, roaming_allowed?: true},
            %{apn: "internet"}
          ],
          sim_pin: "1234",
          only_radio_technologies: [:lte, :lte_cat_m1],
          dns: [{1, 1, 1, 1}]
        }
      }

  Every key, its default and what `normalize/1` refuses is documented in
  `VintageNetCellular.Config`. Providers are chosen as vintage_net_qmi does
  (`VintageNetCellular.ServiceProviders`): the first provider whose
  `only_iccid_prefixes` matches the ICCID wins, otherwise the last one without
  prefixes. The chosen APN is published as
  `["interface", ifname, "mobile", "apn"]`.

  ### Several modems

  Each interface claims one modem, so a gateway can run two:

      VintageNet.configure("ppp0", %{type: VintageNetCellular,
        vintage_net_cellular: %{usb_path: "1-1.2", service_providers: [%{apn: "a"}]}})
      VintageNet.configure("ppp1", %{type: VintageNetCellular,
        vintage_net_cellular: %{usb_path: "1-1.3", service_providers: [%{apn: "b"}]}})

  Without `usb_path` or `imei`, each takes the first modem nobody else has
  claimed (in USB path order).

  ### UART modems

      %{type: VintageNetCellular,
        vintage_net_cellular: %{modem: VintageNetCellular.Modem.SIMCom7600, at_tty: "ttyAMA1",
          speed: 115_200, flow_control: :hardware, service_providers: [%{apn: "internet"}]}}

  With one tty, pppd takes it over while PPP is up (`at/3` then answers
  `{:error, :ppp_running}`).

  ## What happens

  `VintageNetCellular.Connection` is the connection manager (a state
  machine, one per interface): find and claim the modem, `ATE0`/`AT+CMEE=2`,
  unlock the SIM once if it asks and a PIN is configured, read ICCID and IMSI,
  choose the provider, read-compare-write the PDP context, apply roaming and
  radio settings, wait for the registration URCs, start pppd, and on ip-up
  set the route, DNS and connection status. Its state and the reason for it
  are in `["interface", ifname, "mobile", "state"]` and `[..., "reason"]`.
  `VintageNetCellular.Monitor` publishes signal, operator, cell and identity
  facts beside it.

  ## At the console

      iex> VintageNetCellular.at("AT+CSQ")
      {:ok, ["+CSQ: 23,99"]}
      iex> VintageNetCellular.at("ppp1", "AT+COPS?", 10_000)
      {:ok, ["+COPS: 0,0,\\"T-Mobile\\",7"]}
      iex> VintageNetCellular.diagnose()
      [%{level: :info, message: "Quectel EC25 at 1-1.2: AT port ttyUSB2, PPP port ttyUSB3", kernel_options: []}]
  """
  # vintage_net provides the behaviour in every app that uses this library
  # (and the test double in :dev/:test); declared only where it exists so the
  # library also compiles cleanly on its own.
  if Code.ensure_loaded?(VintageNet.Technology) do
    @behaviour VintageNet.Technology
  end

  require Logger

  alias VintageNetCellular.Config
  alias VintageNetCellular.Interface
  alias VintageNetCellular.PPP

  @compile {:no_warn_undefined, [VintageNet, VintageNet.NameResolver, VintageNet.RouteManager, PropertyTable]}

  # Built at run time: vintage_net provides the struct in users' apps.
  @raw_config VintageNet.Interface.RawConfig
  @vintage_net VintageNet

  @doc """
  Validates a configuration and fills in its defaults (see
  `VintageNetCellular.Config`). Raises `ArgumentError` naming the bad key.

      iex> %{vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
      ...> |> VintageNetCellular.normalize()
      ...> |> get_in([:vintage_net_cellular, :modem])
      :auto
  """
  @spec normalize(map()) :: map()
  def normalize(config), do: Config.normalize(config)

  @doc """
  The `VintageNet.Interface.RawConfig` for an interface.

  * `required_ifnames: []`: nothing waits for a network interface; the
    connection manager waits for the modem's ttys itself;
  * `up_cmds`: create `/dev/ppp`, pppd's lock directory and the notifier
    links (`VintageNetCellular.PPP.up_cmds/1`);
  * `child_specs`: the interface's supervisor (`VintageNetCellular.Interface`);
  * `down_cmds`: clear DNS and routes, and delete every property under
    `["interface", ifname, "mobile"]`;
  * `cleanup_files`: the credentials file, the notifier socket and links.

  It also registers the configuration's PIN, usernames and passwords with
  `VintageNetCellular.Secrets`, so that no log line shows them, before any
  of the interface's processes start.
  """
  @spec to_raw_config(String.t(), map(), keyword()) :: VintageNet.Interface.RawConfig.t()
  def to_raw_config(ifname, config, opts) do
    config = normalize(config)
    options = config.vintage_net_cellular
    VintageNetCellular.Secrets.register(ifname, VintageNetCellular.Secrets.values(options))
    settings = Interface.settings(opts)
    paths = Interface.paths(ifname, settings)

    up_opts =
      [
        tmpdir: settings.tmpdir,
        ifname: ifname,
        dev_ppp: settings.dev_ppp,
        lock_dir: settings.ppp_lock_dir,
        mknod: settings.mknod
      ] ++ if(settings.notifier, do: [notifier: settings.notifier], else: [])

    struct!(@raw_config,
      ifname: ifname,
      type: __MODULE__,
      source_config: config,
      required_ifnames: [],
      up_cmds: PPP.up_cmds(up_opts),
      down_cmds: [
        {:fun, VintageNet.NameResolver, :clear, [ifname]},
        {:fun, VintageNet.RouteManager, :clear_route, [ifname]},
        {:fun, PropertyTable, :delete_matches, [@vintage_net, ["interface", ifname, "mobile"]]}
      ],
      cleanup_files: PPP.cleanup_files(paths),
      child_specs: [{Interface, ifname: ifname, config: options, settings: settings}]
    )
  end

  @doc """
  Interface commands, through `VintageNet.ioctl/3`:

  * `:at` with `[command]` or `[command, timeout_ms]`: send one AT command on
    the modem's AT port (while PPP runs on the other port). Returns what
    `VintageNetCellular.ATPort.command/3` does, `{:error, :no_modem}` while
    no modem is claimed, or `{:error, :ppp_running}` on a one-port modem
    while PPP is up;
  * `:status`: `{:ok, %{state, reason, modem, profile, apn, ...}}` from the
    connection manager.
  """
  @spec ioctl(String.t(), atom(), list()) :: {:ok, any()} | {:error, any()}
  def ioctl(ifname, :at, [command]), do: ioctl(ifname, :at, [command, 5_000])

  def ioctl(ifname, :at, [command, timeout]) when is_binary(command) and is_integer(timeout) do
    case Interface.whereis(ifname, :at_port) do
      nil ->
        if VintageNetCellular.Connection.ppp_owns_at_port?(ifname),
          do: {:error, :ppp_running},
          else: {:error, :no_modem}

      pid ->
        try do
          VintageNetCellular.ATPort.command(pid, command, timeout)
        catch
          :exit, _ -> {:error, :closed}
        end
    end
  end

  def ioctl(ifname, :status, []), do: VintageNetCellular.Connection.status(ifname)
  def ioctl(_ifname, _command, _args), do: {:error, :unsupported}

  @doc """
  Checks that this system can run PPP with a modem: pppd (2.4.9 or later)
  present (no `chat` is needed: pppd dials with this application's own
  dialer), kernel PPP support, `/dev/ppp` present or creatable, and
  no error from `diagnose/1`. Returns `:ok` or `{:error, message}` with one
  line per problem. See `VintageNetCellular.SystemCheck`.

  `opts` may carry SystemCheck's options (`:pppd`, `:proc`, ...,
  `data_path: :usb_net` to also check what the USB network path needs)
  and `:sysfs_root`; the app environment's `:pppd`, `:dev_ppp` and
  `:sysfs_root` are used otherwise.
  """
  @spec check_system(keyword()) :: :ok | {:error, String.t()}
  def check_system(opts) do
    env = Application.get_all_env(:vintage_net_cellular)
    sysfs_root = Keyword.get(opts, :sysfs_root, Keyword.get(env, :sysfs_root, "/sys"))
    findings = for %{level: :error} = f <- diagnose(sysfs_root), do: f

    from_env =
      env
      |> Keyword.take([:pppd, :dev_ppp, :mknod])
      |> Keyword.merge(
        Keyword.take(opts, [:pppd, :mknod, :dev_ppp, :proc, :sys, :modules, :kernel_release, :data_path])
      )

    VintageNetCellular.SystemCheck.run([findings: findings] ++ from_env)
  end

  @doc """
  Configures "ppp0" with one catch-all provider for `apn` and returns what
  `VintageNet.configure/2` returns.

      VintageNetCellular.quick_configure("internet")
  """
  @spec quick_configure(String.t()) :: :ok | {:error, any()}
  def quick_configure(apn) do
    config = %{type: __MODULE__, vintage_net_cellular: %{service_providers: [%{apn: apn}]}}

    case with_vintage_net(fn -> @vintage_net.configure("ppp0", config) end) do
      :ok -> :ok
      {:error, reason} -> {:error, reason}
      other -> {:error, {:unexpected, other}}
    end
  end

  # Runs a call into VintageNet; `{:error, :vintage_net_not_running}` when it
  # isn't up (its property table and registries are gone, so the call raises
  # ArgumentError or exits with :noproc before reaching any interface).
  @spec with_vintage_net((() -> result)) :: result | {:error, :vintage_net_not_running} when result: any()
  defp with_vintage_net(fun) do
    fun.()
  rescue
    ArgumentError -> {:error, :vintage_net_not_running}
  catch
    :exit, {:noproc, _} -> {:error, :vintage_net_not_running}
  end

  @doc """
  Sends one AT command to the modem of `ifname` (default "ppp0") and returns
  its answer. The command is logged with any PIN, PUK or password redacted.

      iex> VintageNetCellular.at("AT+CSQ")
      {:ok, ["+CSQ: 23,99"]}
      iex> VintageNetCellular.at("AT+CGDCONT?", 10_000)
      {:ok, ["+CGDCONT: 1,\\"IP\\",\\"internet\\",\\"0.0.0.0\\",0,0"]}
      iex> VintageNetCellular.at("ppp1", "ATI")
      {:ok, ["Quectel", "EC25", "Revision: EC25EFAR06A06M4G"]}

  Forms: `at(command)`, `at(command, timeout)`, `at(ifname, command)` and
  `at(ifname, command, timeout)`.

  Errors come back as `{:error, reason}`, never as an exception:
  `:vintage_net_not_running`, `:unconfigured` (no such interface),
  `:no_modem`, `:ppp_running` (a one-port modem while PPP is up), and those of
  `VintageNetCellular.ATPort.command/3` (`:timeout`, `{:cme_error, code}`...).
  """
  @spec at(String.t(), String.t() | timeout(), timeout()) :: :ok | {:ok, any()} | {:error, any()}
  def at(ifname \\ "ppp0", command, timeout \\ 5_000)

  def at(command, timeout, 5_000) when is_binary(command) and is_integer(timeout) do
    at("ppp0", command, timeout)
  end

  def at(ifname, command, timeout) when is_binary(ifname) and is_binary(command) do
    Logger.info("[vintage_net_cellular] #{ifname}: #{redact(command)}")

    with_vintage_net(fn ->
      if @vintage_net.get(["interface", ifname, "type"]) == nil do
        {:error, :unconfigured}
      else
        @vintage_net.ioctl(ifname, :at, [command, timeout])
      end
    end)
  catch
    # The interface went away between the lookup and the call.
    :exit, _ -> {:error, :unconfigured}
  end

  @doc """
  The AT command with PIN, PUK and password arguments replaced by
  `<redacted>`, for logs (the same table the AT port uses, see
  `VintageNetCellular.ATPort.redact/1`).

      iex> VintageNetCellular.redact(~s(AT+CPIN="1234"))
      "AT+CPIN=<redacted>"
      iex> VintageNetCellular.redact("AT+CSQ")
      "AT+CSQ"
  """
  @spec redact(String.t()) :: String.t()
  def redact(command), do: VintageNetCellular.ATPort.redact(command)

  @doc """
  Looks for modems and what keeps them from working: drivers not bound
  (with the kernel option that fixes it), no USB host port, no modem at all.
  Returns findings `%{level: :error | :warning | :info, message, kernel_options}`.

  `sysfs_root` defaults to the app environment's `:sysfs_root` ("/sys").
  See `VintageNetCellular.Diagnose`.
  """
  @spec diagnose(Path.t()) :: [map()]
  def diagnose(sysfs_root \\ Application.get_env(:vintage_net_cellular, :sysfs_root, "/sys")) do
    VintageNetCellular.Diagnose.run(sysfs_root)
  end
end
