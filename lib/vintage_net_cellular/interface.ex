defmodule VintageNetCellular.Interface do
  @moduledoc """
  The processes of one cellular interface, under one supervisor.

  `VintageNetCellular.to_raw_config/3` puts this supervisor in
  `RawConfig.child_specs`, so VintageNet starts it once the `up_cmds` have
  run, and stops it (and everything below) when the interface is
  reconfigured or deconfigured. Each interface has its own tree: nothing is
  shared between "ppp0" and "ppp1" except the claim registry
  (`VintageNetCellular.Claims`), which makes sure they never share a modem.

      VintageNetCellular.Interface            (one_for_all)
      ├── workers: DynamicSupervisor          started and stopped by the connection manager:
      │     ├── VintageNetCellular.ATPort       the AT port, once the modem is found
      │     ├── MuonTrap.Daemon (pppd)          while dialing/connected, on the PPP tty
      │     │                                   (or the 27.010 multiplexer's data channel)
      │     ├── InternetChecker                 while the PPP link is up
      │     └── DataPath.USBNet.Session         instead of the two above, on a USB network
      │                                         function (udhcpc, InternetChecker under it)
      ├── VintageNetCellular.PPP.Notifier     pppd's ip-up/ip-down events (unix datagram socket)
      └── VintageNetCellular.Connection       the connection manager (a :gen_statem)

  `one_for_all`: if any of the three fails, the whole interface starts over
  from a clean slate (no AT port or pppd outlives the manager that owns it,
  and the manager's claims die with it).

  Processes are registered under local names made from `{ifname, role}`
  (`name/2`); `at_port/1` and `connection/1` give them, so other processes
  of the interface (the property monitor, `ioctl/3`) can find the AT port
  without a global lookup.

  ## Boot order

  VintageNet starts the interfaces of persisted configurations while it
  starts itself, before any application that depends on it, so before this
  library's own application. Nothing here may need that application to be
  up: names are plain registered atoms (one per interface and role, and the
  interface names are few and come from the configuration), and the
  connection manager waits for the claim registry
  (`VintageNetCellular.Claims`, started by `VintageNetCellular.Application`)
  before it claims a modem, instead of failing. A child that fails to start
  here would make VintageNet crash-loop and then stop altogether.

  ## Settings

  Paths and timings come from the application environment of
  `:vintage_net_cellular` (see `settings/1` for the keys and defaults), so
  tests and unusual systems can point them elsewhere:

      config :vintage_net_cellular,
        sysfs_root: "/sys",
        dev_root: "/dev",
        pppd: "/usr/sbin/pppd"
  """
  use Supervisor

  alias VintageNetCellular.PPP

  @defaults [
    sysfs_root: "/sys",
    dev_root: "/dev",
    pppd: "/usr/sbin/pppd",
    dialer: nil,
    pppd_version: nil,
    data_path: VintageNetCellular.DataPath.PPP,
    dev_ppp: "/dev/ppp",
    ppp_lock_dir: "/var/run/pppd/lock",
    mknod: "mknod",
    ip_command: "ip",
    notifier: nil,
    command_timeout: 5_000,
    probe_timeout: 1_500,
    bring_up_attempts: 3,
    scan_interval: 2_000,
    modem_check_interval: 5_000,
    backoff_min: 1_000,
    backoff_max: 60_000,
    sim_poll_interval: 10_000,
    registration_timeout: 120_000,
    dial_timeout: 60_000,
    pppd_debug: false,
    pppd_holdoff: 5,
    statistics_interval: 30_000,
    monitor: []
  ]

  @typedoc """
  Where things are and how long to wait, from `settings/1`:

  * `:sysfs_root` (`"/sys"`) and `:dev_root` (`"/dev"`): where modems are
    discovered and where their ttys are opened;
  * `:pppd`: the executable (`"/usr/sbin/pppd"`);
  * `:dialer`: pppd's connect program, called as `<dialer> dial <cid>` (nil:
    this application's `cellular_port`; tests put a stand-in here);
  * `:pppd_version`: `"2.5.0"`-style, or nil to ask `pppd --version`;
  * `:dev_ppp`, `:ppp_lock_dir`, `:mknod`, `:notifier`: for `PPP.up_cmds/1`;
  * `:tmpdir`: VintageNet's tmpdir (options file, notifier socket);
  * `:muontrap_options`: VintageNet's extra options for `MuonTrap.Daemon`;
  * timings in ms: `:command_timeout` (5 s, per AT command), `:scan_interval`
    (2 s, sysfs rescans while no modem is found; kernel uevents make one
    at once, see `VintageNetCellular.Uevents`), `:modem_check_interval`
    (5 s, sysfs check that the claimed modem is still there with the same
    ttys), `:backoff_min`/`:backoff_max` (1 s/60 s, retries),
    `:sim_poll_interval` (10 s, while the SIM is locked),
    `:registration_timeout` (120 s, before the registration is read again),
    `:dial_timeout` (60 s, for pppd to report ip-up);
  * `:probe_timeout` (1.5 s): how long a port of an unknown device may take
    to open and to answer `AT` (`VintageNetCellular.Connection.Probe`);
  * `:bring_up_attempts` (3): how many bring-ups in a row a modem may fail
    to answer (its AT port doesn't open or doesn't answer the set-up) before
    the connection manager sets it aside until it re-enumerates and tries
    another (see `VintageNetCellular.Connection`);
  * `:data_path` (`VintageNetCellular.DataPath.PPP`): the module that
    carries data once the modem is registered (`VintageNetCellular.DataPath`);
  * `:ip_command` (`"ip"`, found on the PATH): iproute2's `ip`, which
    renames a modem's USB net device and runs VintageNet's DHCP commands for
    it (`VintageNetCellular.DataPath.USBNet`);
  * `:pppd_debug` (false): pass `debug` to pppd;
  * `:pppd_holdoff` (5): seconds pppd waits before dialing again after the
    link drops (pppd runs with `persist`);
  * `:statistics_interval` (30 s): how often `VintageNetCellular.Statistics`
    reads the PPP interface's counters (under `:sysfs_root`) while the link
    is up;
  * `:monitor` (`[]`): the polling intervals of `VintageNetCellular.Monitor`
    (its `:config` option).
  """
  @type settings :: %{atom() => any()}

  @doc """
  The settings for an interface: defaults, then the `:vintage_net_cellular`
  application environment, then `:tmpdir` and `:muontrap_options` from
  VintageNet's options (`opts` of `to_raw_config/3`).
  """
  @spec settings(keyword()) :: settings()
  def settings(vintage_net_opts) do
    @defaults
    |> Keyword.merge(Application.get_all_env(:vintage_net_cellular))
    |> Keyword.merge(
      tmpdir: Keyword.get(vintage_net_opts, :tmpdir, "/tmp/vintage_net"),
      muontrap_options: Keyword.get(vintage_net_opts, :muontrap_options, [])
    )
    |> Map.new()
  end

  @doc "The files of the interface under the tmpdir (see `VintageNetCellular.PPP.paths/2`)."
  @spec paths(String.t(), settings()) :: PPP.paths()
  def paths(ifname, settings), do: PPP.paths(settings.tmpdir, ifname)

  @doc "The registered name of the interface's AT port (`VintageNetCellular.ATPort`)."
  @spec at_port(String.t()) :: GenServer.name()
  def at_port(ifname), do: via(ifname, :at_port)

  @doc "The registered name of the interface's connection manager."
  @spec connection(String.t()) :: GenServer.name()
  def connection(ifname), do: via(ifname, :connection)

  @doc "The registered name of the interface's worker supervisor."
  @spec workers(String.t()) :: GenServer.name()
  def workers(ifname), do: via(ifname, :workers)

  @doc "The pid registered for `{ifname, role}`, or nil."
  @spec whereis(String.t(), atom()) :: pid() | nil
  def whereis(ifname, role) do
    case Process.whereis(name(ifname, role)) do
      pid when is_pid(pid) -> pid
      _ -> nil
    end
  end

  @doc """
  The local name of the interface's process with `role`.

      iex> VintageNetCellular.Interface.name("ppp0", :at_port)
      :"VintageNetCellular.Interface.ppp0.at_port"
  """
  @spec name(String.t(), atom()) :: atom()
  def name(ifname, role) when is_binary(ifname) and is_atom(role) do
    # ifnames come from the configuration: a handful per system.
    String.to_atom("#{inspect(__MODULE__)}.#{ifname}.#{role}")
  end

  defp via(ifname, role), do: name(ifname, role)

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: {__MODULE__, Keyword.fetch!(opts, :ifname)},
      start: {__MODULE__, :start_link, [opts]},
      type: :supervisor
    }
  end

  @doc """
  Starts the interface's supervisor. Options: `:ifname`, `:config` (the
  normalized `:vintage_net_cellular` options) and `:settings` (`settings/1`).
  """
  @spec start_link(keyword()) :: Supervisor.on_start()
  def start_link(opts) do
    Supervisor.start_link(__MODULE__, opts, name: via(Keyword.fetch!(opts, :ifname), :supervisor))
  end

  @doc """
  Keeps `value` under `key` for the interface as long as its supervisor
  runs: across restarts of its children (the connection manager may be
  killed at any time), not across a deconfigure. Used for what must
  survive the manager, such as a SIM PIN the SIM refused. A no-op when the
  interface's supervisor is not running.
  """
  @spec remember(String.t(), term(), term()) :: :ok
  def remember(ifname, key, value) do
    _ = :ets.insert(name(ifname, :memory), {key, value})
    :ok
  rescue
    ArgumentError -> :ok
  end

  @doc "What `remember/3` kept under `key`, or `default`."
  @spec recall(String.t(), term(), term()) :: term()
  def recall(ifname, key, default) do
    case :ets.lookup(name(ifname, :memory), key) do
      [{^key, value}] -> value
      [] -> default
    end
  rescue
    ArgumentError -> default
  end

  @impl Supervisor
  def init(opts) do
    ifname = Keyword.fetch!(opts, :ifname)
    settings = Keyword.fetch!(opts, :settings)
    # Owned by this supervisor: it outlives the children it restarts.
    _ = :ets.new(name(ifname, :memory), [:named_table, :public, :set])

    children = [
      {DynamicSupervisor, name: workers(ifname), strategy: :one_for_one},
      {PPP.Notifier,
       path: paths(ifname, settings).socket, ifname: ifname, callback: {VintageNetCellular.Connection, :ppp_event, []}},
      {VintageNetCellular.Connection,
       ifname: ifname, config: Keyword.fetch!(opts, :config), settings: settings, workers: workers(ifname)}
    ]

    Supervisor.init(children, strategy: :one_for_all, max_restarts: 5, max_seconds: 30)
  end
end
