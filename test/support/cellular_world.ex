defmodule VintageNetCellular.Test.World do
  @moduledoc """
  A small world for end-to-end tests of the technology: simulated modems
  (`VintageNetCellular.Test.Simulator`) that look, to the library, like USB
  modems plugged into this machine.

  * a fixture sysfs (`VintageNetCellular.SysfsFixture`) lists each plugged
    modem at its USB path with the tty names the test chose (`tty_base`);
  * a fixture dev directory links those tty names to the simulator's ptys
    (`dev/ttyUSB2 -> /dev/pts/7`), so the AT port and the dialer open them by name;
  * the `:vintage_net_cellular` app environment points discovery, the AT port
    and pppd at them, pppd being `test/support/fake_pppd` (see that script for
    why), and VintageNet's tmpdir at a private directory.

  Unplugging and replugging rebuild the sysfs tree and the dev links, as the
  kernel would, with new tty numbers.

  The world also plays the kernel's and VintageNet's netlink part for the
  PPP interfaces (unless started with `netlink: false`). Real pppd creates
  "pppN" once the dialer has connected, before ip-up, and the interface goes away
  when pppd ends; `fake_pppd` can't create kernel interfaces. So while an
  interface's connection manager is `:dialing` or `:connected`, the world
  reports `["interface", ifname, "present"]` (and `lower_up`) true, and
  removes them otherwise.
  """

  alias VintageNetCellular.SysfsFixture
  alias VintageNetCellular.Test.Simulator

  @env_keys [
    :statistics_interval,
    :sysfs_root,
    :dev_root,
    :pppd,
    :dialer,
    :dev_ppp,
    :ppp_lock_dir,
    :command_timeout,
    :scan_interval,
    :modem_check_interval,
    :backoff_min,
    :backoff_max,
    :sim_poll_interval,
    :registration_timeout,
    :dial_timeout,
    :pppd_holdoff,
    :monitor,
    :state_dir,
    :probe_timeout,
    :bring_up_attempts,
    :extra_profiles,
    :data_path,
    :ip_command
  ]

  @doc """
  Creates the directories and sets the app environment. Returns the world;
  call `stop/1` when done (the test's `on_exit`).
  """
  @spec start(keyword()) :: map()
  def start(opts \\ []) do
    # The VM's pid too: unique integers start over in each VM, and a run
    # that was killed leaves its directories behind.
    dir = Path.join(System.tmp_dir!(), "vnc-e2e-#{System.pid()}-#{System.unique_integer([:positive])}")
    sysfs = Path.join(dir, "sys")
    dev = Path.join(dir, "dev")
    tmpdir = Path.join(dir, "vn")
    Enum.each([dev, tmpdir], &File.mkdir_p!/1)
    File.ln_s!(Path.join(dir, "empty"), sysfs)
    File.mkdir_p!(Path.join(dir, "empty"))

    saved = for key <- @env_keys, do: {key, Application.fetch_env(:vintage_net_cellular, key)}

    env = [
      sysfs_root: sysfs,
      dev_root: dev,
      pppd: Path.expand("fake_pppd", __DIR__),
      # pppd's connect program: the real dialer (`cellular_port dial`) in priv.
      dialer: nil,
      dev_ppp: Path.join(dir, "ppp"),
      ppp_lock_dir: Path.join(dir, "lock"),
      command_timeout: 3_000,
      scan_interval: 100,
      modem_check_interval: 300,
      backoff_min: 200,
      backoff_max: 1_000,
      sim_poll_interval: 300,
      registration_timeout: 10_000,
      dial_timeout: 20_000,
      pppd_holdoff: 1,
      statistics_interval: 100,
      monitor: [],
      # The SIM PIN ledger of this world only: a PIN one test's SIM refused
      # is not refused for the next test's SIM with the same ICCID.
      state_dir: Path.join(dir, "state")
    ]

    Enum.each(Keyword.merge(env, Keyword.get(opts, :env, [])), fn {k, v} ->
      Application.put_env(:vintage_net_cellular, k, v)
    end)

    VintageNet.Double.put_env(tmpdir: tmpdir)

    netlink = if Keyword.get(opts, :netlink, true), do: start_netlink()

    %{
      dir: dir,
      sysfs: sysfs,
      dev: dev,
      tmpdir: tmpdir,
      saved: saved,
      modems: %{},
      netlink: netlink,
      # Kernel drivers registered whether or not a device binds them
      # (e.g. "cdc_ether", built in, for a modem switched to ECM).
      drivers: Keyword.get(opts, :drivers, [])
    }
  end

  # Mirrors each interface's connection-manager state into present/lower_up.
  defp start_netlink do
    parent = self()

    {:ok, pid} =
      Task.start(fn ->
        VintageNet.subscribe(["interface", :_, "mobile", "state"])
        send(parent, {:netlink_ready, self()})
        netlink_loop()
      end)

    receive do
      {:netlink_ready, ^pid} -> pid
    end
  end

  defp netlink_loop do
    receive do
      {VintageNet, ["interface", ifname, "mobile", "state"], _old, state, _meta} ->
        present? = VintageNet.get(["interface", ifname, "present"]) == true

        cond do
          state in [:dialing, :connected] and not present? -> VintageNet.Double.link_up(ifname)
          state not in [:dialing, :connected] and present? -> VintageNet.Double.link_removed(ifname)
          true -> :ok
        end

        netlink_loop()

      :stop ->
        :ok
    end
  end

  @doc """
  The setup of an end-to-end test: checks that the simulator is there
  (raising with what to do otherwise), resets the VintageNet
  double, starts a world (`start/1` options) and registers its teardown with
  `ExUnit.Callbacks.on_exit/1`. Returns `%{world: world}` for the test context.
  """
  @spec setup_e2e(keyword()) :: %{world: map()}
  def setup_e2e(opts \\ []) do
    unless Simulator.available?() do
      raise "these tests need the simulator (mix compile)"
    end

    VintageNet.Double.reset()
    world = start(opts)

    ExUnit.Callbacks.on_exit(fn ->
      VintageNet.Double.reset()
      stop(world)
    end)

    %{world: world}
  end

  @doc "Restores the app environment and removes the directories."
  @spec stop(map()) :: :ok
  def stop(world) do
    if world.netlink, do: send(world.netlink, :stop)

    Enum.each(world.saved, fn
      {key, {:ok, value}} -> Application.put_env(:vintage_net_cellular, key, value)
      {key, :error} -> Application.delete_env(:vintage_net_cellular, key)
    end)

    File.rm_rf!(world.dir)
    :ok
  end

  @doc """
  Starts a simulated modem and plugs it in. Options: `:model` (`:ec25`; any
  model both the simulator and `VintageNetCellular.SysfsFixture` know, e.g.
  `:sim7600`, `:a7600`, `:me910c1`, `:lara_r6`, `:e3372`),
  `:usb_path` ("1-1.2"), `:tty_base` (0: its ports become ttyUSB0..3, AT on
  ttyUSB2 and PPP on ttyUSB3 for an EC25), `:args` (more simulator
  arguments, e.g. `["--sim", "absent"]`), `:fixture` (more
  `VintageNetCellular.SysfsFixture.modem/2` options, e.g. `[product_id: 0x7F09]`
  to plug the model in under another USB id).
  """
  @spec add_modem(map(), atom(), keyword()) :: map()
  def add_modem(world, name, opts \\ []) do
    model = Keyword.get(opts, :model, :ec25)

    args =
      ["--model", Atom.to_string(model), "--register-after-ms", "100", "--seed", "7"] ++
        Keyword.get(opts, :args, [])

    {:ok, sim} = Simulator.start_link(args)

    modem = %{
      sim: sim,
      model: model,
      usb_path: Keyword.get(opts, :usb_path, "1-1.2"),
      tty_base: Keyword.get(opts, :tty_base, 0),
      fixture: Keyword.get(opts, :fixture, []),
      composition: Keyword.get(opts, :composition),
      plugged?: true
    }

    world = put_in(world.modems[name], modem)
    rebuild(world)
    world
  end

  @doc """
  Follows a modem's own resets (`AT+CFUN=1,1`, a USB composition switch, the
  `usbnet` control), as the kernel would see them: when the simulator says
  `unplugged`, the modem's sysfs entries and dev links go; when it says
  `replugged`, they come back, in the composition the event names (its
  `composition`, e.g. "ecm": the fixture gains the net function). `hook` is
  called after each, with `:unplugged` or `{:replugged, composition}`
  (an atom), e.g. to take a test's net device away and bring it back.

  Runs in a process linked to the caller; returns its pid.
  """
  @spec follow_resets(map(), atom(), (term() -> any())) :: pid()
  def follow_resets(world, name, hook \\ fn _ -> :ok end) do
    spawn_link(fn ->
      try do
        follow_loop(world, name, hook)
      catch
        # The simulator stopped: the test is over.
        :exit, _ -> :ok
      end
    end)
  end

  defp follow_loop(world, name, hook) do
    sim = sim(world, name)

    world =
      case Simulator.await(sim, "unplugged", 60_000) do
        {:ok, _} ->
          world = put_in(world.modems[name].plugged?, false)
          rebuild(world)
          hook.(:unplugged)
          await_replug(world, name, sim, hook)

        {:error, _timeout} ->
          world
      end

    follow_loop(world, name, hook)
  end

  defp await_replug(world, name, sim, hook) do
    case Simulator.await(sim, "replugged", 60_000) do
      {:ok, event} ->
        composition = composition(event[:composition])
        world = update_in(world.modems[name], &%{&1 | plugged?: true, composition: composition})
        rebuild(world)
        hook.({:replugged, composition})
        world

      {:error, _timeout} ->
        await_replug(world, name, sim, hook)
    end
  end

  defp composition(name) when name in ["ecm", "rndis", "ncm", "mbim", "rmnet", "serial"], do: String.to_atom(name)
  defp composition(_other), do: nil

  @doc """
  An `ip` for the library (its `ip_command` setting) that runs iproute2's
  `ip` in network namespace `netns`, where a test keeps the modem's net
  device. A rename (`ip link set dev A name B`) is also made in the sysfs
  fixture, as the kernel's sysfs shows it. Returns the script's path.
  """
  @spec ip_in_netns(map(), String.t()) :: String.t()
  def ip_in_netns(world, netns) do
    path = Path.join(world.dir, "ip")

    File.write!(path, """
    #!/bin/sh
    ip -n "#{netns}" "$@" || exit $?
    if [ "$1" = link ] && [ "$2" = set ] && [ "$3" = dev ] && [ "$5" = name ]; then
      sys=$(readlink -f "#{world.sysfs}")
      for d in $(find "$sys/devices" -type d -path "*/net/$4"); do
        mv "$d" "$(dirname "$d")/$6"
      done
      if [ -L "$sys/class/net/$4" ]; then
        target=$(readlink "$sys/class/net/$4")
        ln -s "$(dirname "$target")/$6" "$sys/class/net/$6"
        rm "$sys/class/net/$4"
      fi
    fi
    exit 0
    """)

    File.chmod!(path, 0o755)
    path
  end

  @doc "The simulator of a modem."
  @spec sim(map(), atom()) :: pid()
  def sim(world, name), do: world.modems[name].sim

  @doc """
  Unplugs a modem: the simulator closes its ptys, and its sysfs entries and
  dev links disappear.
  """
  @spec unplug(map(), atom()) :: map()
  def unplug(world, name) do
    :ok = Simulator.control(sim(world, name), "unplug")
    {:ok, _} = Simulator.await(sim(world, name), "unplugged")
    world = put_in(world.modems[name].plugged?, false)
    rebuild(world)
    world
  end

  @doc "Plugs a modem back in under new tty numbers (`tty_base`)."
  @spec replug(map(), atom(), non_neg_integer()) :: map()
  def replug(world, name, tty_base) do
    :ok = Simulator.control(sim(world, name), "replug")
    {:ok, _} = Simulator.await(sim(world, name), "replugged")
    world = update_in(world.modems[name], &%{&1 | plugged?: true, tty_base: tty_base})
    rebuild(world)
    world
  end

  @doc """
  Closes the tty of one port (`:at` or `:ppp`) under its client; a new pty
  takes its place at once under the same tty name (the modem is not reset).
  """
  @spec reopen(map(), atom(), :at | :ppp) :: map()
  def reopen(world, name, port) when port in [:at, :ppp] do
    :ok = Simulator.control(sim(world, name), "reopen #{port}")
    {:ok, _} = Simulator.await(sim(world, name), "reopened")
    rebuild(world)
    world
  end

  @doc "The tty names a plugged modem has now: `%{at: \"ttyUSB2\", ppp: \"ttyUSB3\"}`."
  @spec ttys(map(), atom()) :: %{at: String.t(), ppp: String.t()}
  def ttys(world, name) do
    modem = world.modems[name]
    ttys = modem |> fixture() |> SysfsFixture.ttys()
    {at_if, ppp_if} = port_interfaces(modem.model, Map.get(modem, :composition))
    %{at: ttys[at_if], ppp: ttys[ppp_if]}
  end

  @doc "The simulator's transcript lines received on `port` (\"at\" or \"ppp\"), e.g. `\"AT+CPIN?\"`."
  @spec received(map(), atom(), String.t()) :: [String.t()]
  def received(world, name, port \\ "at"), do: transcript(world, name, " #{port} <- ")

  @doc "The lines the simulator wrote on `port` (answers and URCs), e.g. `\"+CEREG: 3\"`."
  @spec sent(map(), atom(), String.t()) :: [String.t()]
  def sent(world, name, port \\ "at"), do: transcript(world, name, " #{port} -> ")

  defp transcript(world, name, marker) do
    for line <- Simulator.trace(sim(world, name)),
        [_, command] <- [String.split(line, marker, parts: 2)],
        do: command |> String.trim() |> unescape()
  end

  # The simulator writes received lines with Rust's escape_debug (\" for ").
  defp unescape(text), do: Regex.replace(~r/\\(["'\\])/, text, "\\1")

  # The sysfs tree is rebuilt from scratch, as a replug makes the kernel do,
  # in a new directory that the sysfs_root symlink then points at (renaming a
  # symlink over another is atomic, so a scan never sees a half-built tree).
  # The dev links change only where they must, so open ttys of other modems
  # are never disturbed.
  defp rebuild(world) do
    plugged = for {name, %{plugged?: true} = m} <- world.modems, do: {name, m}

    tree = "#{world.sysfs}.#{System.unique_integer([:positive])}"
    drivers = Enum.map(Map.get(world, :drivers, []), &SysfsFixture.driver/1)
    SysfsFixture.build!(tree, Enum.map(plugged, fn {_, m} -> fixture(m) end) ++ drivers)
    old = if match?({:ok, _}, File.read_link(world.sysfs)), do: File.read_link!(world.sysfs)
    if old == nil, do: File.rm_rf!(world.sysfs)
    swap_link(tree, world.sysfs)
    if old, do: File.rm_rf!(old)

    wanted =
      Map.new(
        for {name, m} <- plugged,
            ports = Simulator.ports(m.sim),
            %{at: at, ppp: ppp} = ttys(world, name),
            pair <- [{at, ports.at}, {ppp, ports.ppp}],
            do: pair
      )

    for entry <- File.ls!(world.dev), not Map.has_key?(wanted, entry), do: File.rm!(Path.join(world.dev, entry))

    for {tty, target} <- wanted, File.read_link(Path.join(world.dev, tty)) != {:ok, target} do
      swap_link(target, Path.join(world.dev, tty))
    end

    :ok
  end

  defp swap_link(target, link) do
    tmp = "#{link}.tmp#{System.unique_integer([:positive])}"
    File.ln_s!(target, tmp)
    File.rename!(tmp, link)
  end

  defp fixture(modem) do
    SysfsFixture.modem(
      modem.model,
      [usb_path: modem.usb_path, tty_base: modem.tty_base, composition: Map.get(modem, :composition)] ++ modem.fixture
    )
  end

  # Which fixture interfaces carry the AT and PPP ports (the port table's roles).
  # The SIM7600's ECM composition (1e0e:9018) has the RNDIS one's layout.
  defp port_interfaces(:sim7600, :ecm), do: {4, 5}
  defp port_interfaces(model, _composition), do: port_interfaces(model)

  defp port_interfaces(:a7600), do: {4, 5}
  defp port_interfaces(:sim7672), do: {4, 5}
  defp port_interfaces(:me910c1), do: {1, 2}
  defp port_interfaces(:lara_r6), do: {1, 2}
  # Huawei's class scheme: ff/02/02 (AT) is 02, ff/02/01 (modem) is 00.
  defp port_interfaces(:e3372), do: {2, 0}
  defp port_interfaces(_model), do: {2, 3}
end
