defmodule VintageNet.DoubleTest do
  # The double is global (one PropertyTable named VintageNet): not async.
  use ExUnit.Case, async: false

  alias VintageNet.Double
  alias VintageNet.Interface.RawConfig

  @moduletag :tmp_dir
  @moduletag capture_log: true

  defmodule Tech do
    @moduledoc false
    # A technology whose RawConfig comes from the config: `raw:` holds the
    # RawConfig fields a test wants, `raise_in:` makes a callback fail.
    @behaviour VintageNet.Technology

    @impl VintageNet.Technology
    def normalize(%{raise_in: :normalize}), do: raise(ArgumentError, "bad apn in normalize")
    def normalize(%{raise_in: :throw}), do: throw(:oops)
    def normalize(config), do: Map.put(config, :normalized, true)

    @impl VintageNet.Technology
    def to_raw_config(_ifname, %{raise_in: :to_raw_config}, _opts), do: raise("no tty")

    def to_raw_config(ifname, config, opts) do
      if test = config[:test], do: send(test, {:opts, opts})

      struct!(
        RawConfig,
        [ifname: ifname, type: __MODULE__, source_config: config, required_ifnames: []] ++
          Map.get(config, :raw, [])
      )
    end

    @impl VintageNet.Technology
    def ioctl(_ifname, :echo, args), do: {:ok, {args, self()}}
    def ioctl(_ifname, :crash, _args), do: raise("ioctl crash")

    def ioctl(_ifname, :block, [test]) do
      send(test, {:ioctl_running, self()})

      receive do
        :go -> :ok
      end
    end

    @impl VintageNet.Technology
    def check_system(_opts), do: :ok
  end

  defmodule Child do
    @moduledoc false
    use GenServer

    def start_link({test, tag}), do: GenServer.start_link(__MODULE__, {test, tag})

    @impl GenServer
    def init({test, tag}) do
      Process.flag(:trap_exit, true)
      send(test, {:child_started, tag})
      {:ok, {test, tag}}
    end

    @impl GenServer
    def terminate(_reason, {test, tag}), do: send(test, {:child_stopped, tag})
  end

  defmodule Steps do
    @moduledoc false
    # {:fun, m, f, a} targets
    def report(test, what), do: send(test, {:step, what}) && :ok
    def file_seen(test, path), do: send(test, {:file_seen, File.read(path)}) && :ok
    def fail, do: {:error, :nope}
  end

  setup %{tmp_dir: tmp_dir} do
    # A test may make the double shut itself down, as vintage_net does after
    # repeated crashes; the next one starts from a running, empty double.
    Double.ensure_started()
    Double.put_env(tmpdir: tmp_dir)
    on_exit(&Double.ensure_started/0)
    :ok
  end

  defp config(raw, extra \\ %{}), do: Map.merge(%{type: Tech, test: self(), raw: raw}, extra)

  defp step(what), do: {:fun, Steps, :report, [self(), what]}

  describe "surface" do
    test "every module exports exactly the listed functions" do
      for {module, :functions, funs} <- Double.surface() do
        assert Code.ensure_loaded?(module)
        exported = module.__info__(:functions) |> Enum.sort()
        assert exported == Enum.sort(funs), "#{inspect(module)} exports #{inspect(exported)}"
      end
    end

    test "the behaviour has the listed callbacks" do
      for {module, :callbacks, callbacks} <- Double.surface() do
        assert Enum.sort(module.behaviour_info(:callbacks)) == Enum.sort(callbacks)
      end
    end

    test "RawConfig has the listed fields, defaults and enforced keys" do
      [{RawConfig, :struct, fields}] = for {RawConfig, _, _} = entry <- Double.surface(), do: entry
      enforced = for {key, :enforced} <- fields, do: key
      assert enforced == [:ifname, :type, :source_config, :required_ifnames]

      defaults = RawConfig.__struct__() |> Map.from_struct()
      assert Enum.sort(Map.keys(defaults)) == Enum.sort(Keyword.keys(fields))

      for {key, default} <- fields, default != :enforced do
        assert Map.fetch!(defaults, key) == default, "default of #{key}"
      end

      assert defaults.source_config == %{}
      assert defaults.required_ifnames == []

      given = Map.new(enforced, &{&1, nil})
      assert %RawConfig{} = struct!(RawConfig, given)

      for key <- enforced do
        error = assert_raise ArgumentError, fn -> struct!(RawConfig, Map.delete(given, key)) end
        assert error.message =~ inspect(key)
      end
    end

    test "the moduledoc table is generated from the list" do
      {:docs_v1, _, _, _, %{"en" => doc}, _, _} = Code.fetch_docs(Double)
      assert doc =~ "| `VintageNet.RouteManager` | functions | `clear_route/1`"
      assert doc =~ "`retry_millis: 30000`"
    end
  end

  describe "PropertyTable" do
    test "a new property sends the tuple event with monotonic timestamps" do
      VintageNet.subscribe(["test"])
      before = System.monotonic_time()
      :ok = PropertyTable.put(VintageNet, ["test", "a"], 1)

      assert_receive {VintageNet, ["test", "a"], nil, 1, %{old_timestamp: t0, new_timestamp: t1}}
      assert is_integer(t0) and t0 <= before
      assert t1 >= before and t1 <= System.monotonic_time()

      :ok = PropertyTable.put(VintageNet, ["test", "a"], 2)
      assert_receive {VintageNet, ["test", "a"], 1, 2, %{old_timestamp: ^t1, new_timestamp: t2}}
      assert t2 >= t1
    end

    test "writing the same value sends nothing; a different type of equal number does" do
      PropertyTable.put(VintageNet, ["test", "a"], 1)
      VintageNet.subscribe(["test"])
      PropertyTable.put(VintageNet, ["test", "a"], 1)
      PropertyTable.put_many(VintageNet, [{["test", "a"], 1}])
      refute_receive {VintageNet, _, _, _, _}, 50

      PropertyTable.put(VintageNet, ["test", "a"], 1.0)
      assert_receive {VintageNet, ["test", "a"], 1, 1.0, _}
    end

    test "nil is a value, not a delete" do
      VintageNet.subscribe(["test"])
      PropertyTable.put(VintageNet, ["test", "n"], :x)
      PropertyTable.put(VintageNet, ["test", "n"], nil)
      assert_receive {VintageNet, ["test", "n"], nil, :x, _}
      assert_receive {VintageNet, ["test", "n"], :x, nil, _}

      assert VintageNet.get(["test", "n"], :absent) == nil
      assert VintageNet.get_by_prefix(["test"]) == [{["test", "n"], nil}]

      PropertyTable.put(VintageNet, ["test", "n"], nil)
      refute_receive {VintageNet, ["test", "n"], _, _, _}, 50

      PropertyTable.delete(VintageNet, ["test", "n"])
      assert_receive {VintageNet, ["test", "n"], nil, nil, _}
      assert VintageNet.get(["test", "n"], :absent) == :absent
    end

    test "deleting an absent property sends nothing" do
      VintageNet.subscribe([])
      PropertyTable.delete(VintageNet, ["test", "nothing"])
      refute_receive {VintageNet, _, _, _, _}, 50
    end

    test "put_many: last value wins, events only for changes, in last-write order" do
      PropertyTable.put(VintageNet, ["test", "same"], 0)
      VintageNet.subscribe(["test"])

      PropertyTable.put_many(VintageNet, [
        {["test", "a"], 1},
        {["test", "b"], 2},
        {["test", "same"], 0},
        {["test", "a"], 3}
      ])

      assert_receive {VintageNet, first, _, _, _}
      assert_receive {VintageNet, second, _, _, _}
      refute_receive {VintageNet, _, _, _, _}, 50
      assert [first, second] == [["test", "b"], ["test", "a"]]
      assert VintageNet.get(["test", "a"]) == 3
    end

    test "put_many is atomic: one bad property and nothing is written" do
      assert_raise ArgumentError, fn ->
        PropertyTable.put_many(VintageNet, [{["test", "ok"], 1}, {["test", :bad], 2}])
      end

      assert VintageNet.get(["test", "ok"]) == nil
    end

    test "bad properties and patterns raise" do
      assert_raise ArgumentError, fn -> PropertyTable.put(VintageNet, ["test", :bad], 1) end
      assert_raise ArgumentError, fn -> PropertyTable.put(VintageNet, "test", 1) end
      assert_raise ArgumentError, fn -> VintageNet.subscribe(["test", :bad]) end
      assert_raise ArgumentError, fn -> VintageNet.subscribe(:all) end
    end

    test "delete_matches removes everything under a prefix and reports new = nil" do
      PropertyTable.put_many(VintageNet, [
        {["interface", "ppp0", "mobile", "iccid"], "8988"},
        {["interface", "ppp0", "mobile", "signal_dbm"], -71},
        {["interface", "ppp0", "state"], :configured},
        {["interface", "ppp1", "mobile", "iccid"], "8944"}
      ])

      VintageNet.subscribe(["interface"])
      PropertyTable.delete_matches(VintageNet, ["interface", "ppp0", "mobile"])

      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "iccid"], "8988", nil, _}
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "signal_dbm"], -71, nil, _}
      refute_receive {VintageNet, _, _, _, _}, 50

      assert VintageNet.get_by_prefix(["interface"]) == [
               {["interface", "ppp0", "state"], :configured},
               {["interface", "ppp1", "mobile", "iccid"], "8944"}
             ]
    end

    test "delete_matches with a wildcard" do
      PropertyTable.put_many(VintageNet, [
        {["interface", "ppp0", "mobile", "iccid"], "1"},
        {["interface", "ppp1", "mobile", "iccid"], "2"},
        {["interface", "ppp1", "state"], :configured}
      ])

      PropertyTable.delete_matches(VintageNet, ["interface", :_, "mobile"])
      assert VintageNet.get_by_prefix([]) == [{["interface", "ppp1", "state"], :configured}]
    end

    test "wildcard subscriptions match by prefix; :\"$\" anchors the end" do
      VintageNet.subscribe(["interface", :_, "connection"])
      PropertyTable.put(VintageNet, ["interface", "ppp0", "connection"], :lan)
      PropertyTable.put(VintageNet, ["interface", "wlan0", "connection"], :internet)
      PropertyTable.put(VintageNet, ["interface", "ppp0", "state"], :configured)
      assert_receive {VintageNet, ["interface", "ppp0", "connection"], nil, :lan, _}
      assert_receive {VintageNet, ["interface", "wlan0", "connection"], nil, :internet, _}
      refute_receive {VintageNet, ["interface", "ppp0", "state"], _, _, _}, 50

      VintageNet.subscribe(["a", "b", :"$"])
      PropertyTable.put(VintageNet, ["a", "b", "c"], 1)
      PropertyTable.put(VintageNet, ["a", "b"], 2)
      assert_receive {VintageNet, ["a", "b"], nil, 2, _}
      refute_receive {VintageNet, ["a", "b", "c"], _, _, _}, 50
    end

    test "unsubscribe stops events" do
      VintageNet.subscribe(["test"])
      VintageNet.unsubscribe(["test"])
      PropertyTable.put(VintageNet, ["test", "x"], 1)
      refute_receive {VintageNet, _, _, _, _}, 50
    end

    test "match is exact-length with wildcards; get_by_prefix is by prefix; both sorted" do
      PropertyTable.put_many(VintageNet, [
        {["interface", "wlan0", "connection"], :lan},
        {["interface", "ppp0", "connection"], :internet},
        {["interface", "ppp0", "connection", "extra"], 1},
        {["interface", "ppp0", "state"], :configured}
      ])

      assert VintageNet.match(["interface", :_, "connection"]) == [
               {["interface", "ppp0", "connection"], :internet},
               {["interface", "wlan0", "connection"], :lan}
             ]

      assert VintageNet.get_by_prefix(["interface", "ppp0"]) == [
               {["interface", "ppp0", "connection"], :internet},
               {["interface", "ppp0", "connection", "extra"], 1},
               {["interface", "ppp0", "state"], :configured}
             ]
    end
  end

  describe "configure" do
    test "a raise in normalize/1 or to_raw_config/3 becomes {:error, message}" do
      assert VintageNet.configure("ppp0", config([], %{raise_in: :normalize})) ==
               {:error, "bad apn in normalize"}

      assert VintageNet.configure("ppp0", config([], %{raise_in: :to_raw_config})) ==
               {:error, "no tty"}

      assert {:error, "Configuration has an unrecoverable error: :oops"} =
               VintageNet.configure("ppp0", config([], %{raise_in: :throw}))

      assert {:error, "Missing :type field"} = VintageNet.configure("ppp0", %{})
      assert {:error, "Invalid technology" <> _} = VintageNet.configure("ppp0", %{type: No.Such.Tech})

      assert VintageNet.get(["interface", "ppp0", "config"]) == nil
      assert_raise RuntimeError, "No configuration for ppp0", fn -> VintageNet.get_configuration("ppp0") end
    end

    test "the normalized config is stored; opts carry tmpdir; an unchanged config does nothing",
         %{tmp_dir: tmp_dir} do
      config = config(up_cmds: [step(:up)])
      assert :ok = VintageNet.configure("ppp0", config)
      assert_receive {:opts, opts}
      assert opts[:tmpdir] == tmp_dir
      assert_receive {:step, :up}
      assert Double.await_state("ppp0") == :configured
      assert VintageNet.get_configuration("ppp0") == Map.put(config, :normalized, true)
      assert VintageNet.get(["interface", "ppp0", "type"]) == Tech

      assert :ok = VintageNet.configure("ppp0", config)
      assert_receive {:opts, _}
      refute_receive {:step, :up}, 100
    end

    test "files are written before up_cmds, children start after them", %{tmp_dir: tmp_dir} do
      file = Path.join([tmp_dir, "sub", "pppd_options.ppp0"])
      test = self()

      config =
        config(
          files: [{file, "ABORT BUSY\n"}],
          up_cmds: [{:fun, Steps, :file_seen, [test, file]}, step(:up)],
          child_specs: [{Child, {test, :a}}, Supervisor.child_spec({Child, {test, :b}}, id: :b)]
        )

      assert :ok = VintageNet.configure("ppp0", config)
      assert_receive {:file_seen, {:ok, "ABORT BUSY\n"}}
      assert_receive {:step, :up}
      assert_receive {:child_started, :a}
      assert_receive {:child_started, :b}
      Double.await_state("ppp0")
    end

    test "while not configured, connection is forced to :disconnected" do
      Double.link_up("ppp0")
      VintageNet.RouteManager.set_connection_status("ppp0", :internet, "before")
      assert :ok = VintageNet.configure("ppp0", config(up_cmds: [step(:up)]))
      Double.await_state("ppp0")

      forced =
        for {:set_connection_status, "ppp0", :disconnected, why} <- Double.calls(:route_manager),
            do: why

      assert "VintageNet.Interface configuring" in forced
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :disconnected
    end

    test "reconfigure: old children stop, old down_cmds run, old files go, then the new up",
         %{tmp_dir: tmp_dir} do
      test = self()
      old_file = Path.join(tmp_dir, "old.conf")
      cleanup = Path.join(tmp_dir, "pppd.pid")

      old =
        config(
          files: [{old_file, "old"}],
          cleanup_files: [cleanup],
          child_specs: [{Child, {test, :old}}],
          up_cmds: [{:fun, fn -> File.write(cleanup, "1") end}],
          down_cmds: [step(:old_down)]
        )

      assert :ok = VintageNet.configure("ppp0", old)
      assert_receive {:child_started, :old}
      Double.await_state("ppp0")
      assert File.exists?(old_file) and File.exists?(cleanup)

      new = config(up_cmds: [{:fun, fn -> send(test, {:new_up, File.exists?(old_file)}) && :ok end}])
      assert :ok = VintageNet.configure("ppp0", new)

      assert_receive {:child_stopped, :old}
      assert_receive {:step, :old_down}
      assert_receive {:new_up, false}
      refute File.exists?(cleanup)
    end

    test "deconfigure stops children, runs down_cmds and removes files", %{tmp_dir: tmp_dir} do
      test = self()
      file = Path.join(tmp_dir, "options.ppp0")
      extra = Path.join(tmp_dir, "extra")

      config =
        config(
          files: [{file, "noauth"}],
          cleanup_files: [extra],
          child_specs: [{Child, {test, :c}}],
          up_cmds: [{:fun, fn -> File.write(extra, "x") end}],
          down_cmds: [
            {:fun, PropertyTable, :delete_matches, [VintageNet, ["interface", "ppp0", "mobile"]]},
            step(:down)
          ]
        )

      assert :ok = VintageNet.configure("ppp0", config)
      assert_receive {:child_started, :c}
      Double.await_state("ppp0")
      PropertyTable.put(VintageNet, ["interface", "ppp0", "mobile", "iccid"], "89")

      assert :ok = VintageNet.deconfigure("ppp0")
      assert_receive {:child_stopped, :c}
      assert_receive {:step, :down}
      Double.await_state("ppp0")
      assert VintageNet.get(["interface", "ppp0", "type"]) == VintageNet.Technology.Null
      refute File.exists?(file)
      refute File.exists?(extra)
      assert VintageNet.get_by_prefix(["interface", "ppp0", "mobile"]) == []

      assert VintageNet.get_configuration("ppp0") == %{
               type: VintageNet.Technology.Null,
               reason: "Interface deconfigured"
             }
    end

    test "waits for required_ifnames to be present; goes back when one disappears" do
      config = config(required_ifnames: ["wwan0"], up_cmds: [step(:up)], down_cmds: [step(:down)])
      assert :ok = VintageNet.configure("ppp0", config)

      Double.await_state("ppp0", :retrying)
      refute_receive {:step, :up}, 100
      assert VintageNet.ioctl("ppp0", :echo, []) == {:error, :unconfigured}

      Double.link_up("wwan0")
      assert_receive {:step, :up}
      Double.await_state("ppp0")

      Double.link_removed("wwan0")
      assert_receive {:step, :down}
      Double.await_state("ppp0", :retrying)
    end

    test "failing up_cmds retry after retry_millis" do
      {:ok, attempts} = Agent.start_link(fn -> 0 end)

      flaky = fn ->
        if Agent.get_and_update(attempts, &{&1, &1 + 1}) == 0, do: {:error, :first}, else: :ok
      end

      assert :ok = VintageNet.configure("ppp0", config(retry_millis: 50, up_cmds: [{:fun, flaky}, step(:up)]))
      Double.await_state("ppp0", :retrying)
      assert_receive {:step, :up}, 1_000
      Double.await_state("ppp0")
      assert Agent.get(attempts, & &1) == 2
    end

    test "command kinds: :run checks the exit status, :run_ignore_errors doesn't, funs return :ok or {:error, _}" do
      cases = [
        {[{:run, "true", []}], :configured},
        {[{:run, "sh", ["-c", "exit 3"]}], :retrying},
        {[{:run_ignore_errors, "false", []}], :configured},
        {[{:run, "no-such-program-here", []}], :retrying},
        {[{:fun, Steps, :fail, []}], :retrying}
      ]

      for {{up_cmds, expected}, i} <- Enum.with_index(cases) do
        ifname = "ppp#{i}"
        assert :ok = VintageNet.configure(ifname, config(up_cmds: up_cmds, retry_millis: 60_000))
        Double.await_state(ifname, [:configured, :retrying])
        assert VintageNet.get(["interface", ifname, "state"]) == expected, inspect(up_cmds)
      end
    end

    test "a fun returning anything else crashes the interface process, as in vintage_net" do
      assert :ok = VintageNet.configure("ppp0", config([]))
      Double.await_state("ppp0")
      [{pid, _}] = Registry.lookup(VintageNet.Double.Registry, "ppp0")
      ref = Process.monitor(pid)
      assert :ok = VintageNet.configure("ppp0", config(up_cmds: [{:fun, fn -> :done end}], retry_millis: 60_000))
      assert_receive {:DOWN, ^ref, :process, ^pid, {%RuntimeError{message: message}, _}}, 2_000
      assert message =~ "returned :done"
    end

    test "up_cmds that take longer than up_cmd_millis are abandoned" do
      slow = {:fun, fn -> Process.sleep(5_000) end}
      assert :ok = VintageNet.configure("ppp0", config(up_cmd_millis: 50, retry_millis: 60_000, up_cmds: [slow]))
      Double.await_state("ppp0", :retrying, 1_000)
    end
  end

  describe "ioctl" do
    test "an interface that was never configured exits like the real one" do
      assert {:noproc, _} = catch_exit(VintageNet.ioctl("nope0", :echo, []))
    end

    test "runs the technology's ioctl in another process while configured" do
      assert :ok = VintageNet.configure("ppp0", config([]))
      Double.await_state("ppp0")

      assert {:ok, {[1, 2], pid}} = VintageNet.ioctl("ppp0", :echo, [1, 2])
      assert pid != self()
      assert {:error, {:exit, {%RuntimeError{message: "ioctl crash"}, _}}} = VintageNet.ioctl("ppp0", :crash)
    end

    test "calls aren't queued (as in vintage_net): two can run at once" do
      assert :ok = VintageNet.configure("ppp0", config([]))
      Double.await_state("ppp0")
      test = self()

      tasks = for _ <- 1..2, do: Task.async(fn -> VintageNet.ioctl("ppp0", :block, [test]) end)
      assert_receive {:ioctl_running, a}
      assert_receive {:ioctl_running, b}
      send(a, :go)
      send(b, :go)
      assert Enum.map(tasks, &Task.await/1) == [:ok, :ok]
    end

    test "a reconfigure cancels running ioctls" do
      assert :ok = VintageNet.configure("ppp0", config([]))
      Double.await_state("ppp0")
      test = self()

      task = Task.async(fn -> VintageNet.ioctl("ppp0", :block, [test]) end)
      assert_receive {:ioctl_running, _}
      assert :ok = VintageNet.deconfigure("ppp0")
      assert Task.await(task) == {:error, :cancelled}
    end
  end

  describe "RouteManager, NameResolver, PMControl" do
    test "set_route gives :lan, status changes are published, clear_route disconnects" do
      Double.link_up("ppp0")
      assert :ok = VintageNet.RouteManager.set_route("ppp0", [{{10, 64, 64, 64}, 32}], {10, 0, 0, 1})
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :lan
      assert VintageNet.get(["connection"]) == :lan

      assert :ok = VintageNet.RouteManager.set_connection_status("ppp0", :internet, "checked")
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :internet
      assert VintageNet.get(["connection"]) == :internet

      # a repeated set_route keeps the status
      VintageNet.RouteManager.set_route("ppp0", [{{10, 64, 64, 64}, 32}], {10, 0, 0, 1})
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :internet

      assert :ok = VintageNet.RouteManager.clear_route("ppp0")
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :disconnected
      assert VintageNet.get(["connection"]) == :disconnected

      assert Double.calls(:route_manager) == [
               {:set_route, "ppp0", [{{10, 64, 64, 64}, 32}], {10, 0, 0, 1}},
               {:set_connection_status, "ppp0", :internet, "checked"},
               {:set_route, "ppp0", [{{10, 64, 64, 64}, 32}], {10, 0, 0, 1}},
               {:clear_route, "ppp0"}
             ]
    end

    test "set_connection_status/2 works without a reason" do
      Double.link_up("ppp0")
      assert :ok = VintageNet.RouteManager.set_connection_status("ppp0", :lan)
      assert [{:set_connection_status, "ppp0", :lan, nil}] = Double.calls(:route_manager)
    end

    test "NameResolver records calls and publishes name_servers" do
      assert :ok = VintageNet.NameResolver.setup("ppp0", nil, [{8, 8, 8, 8}, {1, 1, 1, 1}])
      assert :ok = VintageNet.NameResolver.setup("eth0", "lan", [{1, 1, 1, 1}])

      assert VintageNet.get(["name_servers"]) == [
               %{address: {1, 1, 1, 1}, from: ["eth0", "ppp0"]},
               %{address: {8, 8, 8, 8}, from: ["ppp0"]}
             ]

      assert :ok = VintageNet.NameResolver.clear("ppp0")
      assert VintageNet.get(["name_servers"]) == [%{address: {1, 1, 1, 1}, from: ["eth0"]}]

      assert Double.calls(:name_resolver) == [
               {:setup, "ppp0", nil, [{8, 8, 8, 8}, {1, 1, 1, 1}]},
               {:setup, "eth0", "lan", [{1, 1, 1, 1}]},
               {:clear, "ppp0"}
             ]
    end

    test "PMControl.pet_watchdog is recorded" do
      assert :ok = VintageNet.PowerManager.PMControl.pet_watchdog("ppp0")
      assert Double.calls(:pm_control) == [{:pet_watchdog, "ppp0"}]
    end

    test "reset forgets calls, properties, interfaces and env" do
      VintageNet.PowerManager.PMControl.pet_watchdog("ppp0")
      PropertyTable.put(VintageNet, ["x"], 1)
      Double.put_env(internet_check: :pass)
      assert :ok = VintageNet.configure("ppp0", config([]))
      Double.await_state("ppp0")

      Double.reset()
      assert Double.calls() == []
      assert VintageNet.get_by_prefix([]) == []
      assert Double.env()[:internet_check] == :manual
      assert {:noproc, _} = catch_exit(VintageNet.ioctl("ppp0", :echo, []))
    end
  end

  describe "InternetChecker" do
    defp start_with_checker do
      spec = [child_specs: [{VintageNet.Connectivity.InternetChecker, "ppp0"}]]
      assert :ok = VintageNet.configure("ppp0", config(spec))
      Double.await_state("ppp0")
      Double.await(["interface", "ppp0", "connection"], :disconnected)
    end

    test "the child spec matches the real one's shape" do
      assert VintageNet.Connectivity.InternetChecker.child_spec("ppp0") == %{
               id: VintageNet.Connectivity.InternetChecker,
               start: {VintageNet.Connectivity.InternetChecker, :start_link, ["ppp0"]}
             }
    end

    test "reports :disconnected until lower_up, then :lan, then :internet on a passing check" do
      start_with_checker()
      assert {:start, "ppp0"} in Double.calls(:internet_checker)

      # no link yet: a passing check changes nothing
      assert :ok = Double.internet_check("ppp0", :pass)
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :disconnected

      Double.link_up("ppp0")
      Double.await(["interface", "ppp0", "connection"], :lan)

      assert :ok = Double.internet_check("ppp0", :pass)
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :internet
      assert {:pet_watchdog, "ppp0"} in Double.calls(:pm_control)

      # three failures in a row drop to :lan
      Double.internet_check("ppp0", :fail)
      Double.internet_check("ppp0", :fail)
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :internet
      Double.internet_check("ppp0", :fail)
      assert VintageNet.get(["interface", "ppp0", "connection"]) == :lan

      Double.link_down("ppp0")
      Double.await(["interface", "ppp0", "connection"], :disconnected)

      assert {:set_connection_status, "ppp0", :lan, "ifup"} in Double.calls(:route_manager)
    end

    test "with internet_check: :pass the first check passes right after link up" do
      Double.put_env(internet_check: :pass)
      start_with_checker()
      Double.link_up("ppp0")
      Double.await(["interface", "ppp0", "connection"], :internet)
    end

    test "no checker, no check" do
      assert Double.internet_check("ppp9", :pass) == {:error, :no_checker}
    end
  end

  describe "MuonTrap.Daemon" do
    test "the child spec has muontrap's shape" do
      assert MuonTrap.Daemon.child_spec(["pppd", ["nodetach"]]) == %{
               id: MuonTrap.Daemon,
               start: {MuonTrap.Daemon, :start_link, ["pppd", ["nodetach"], []]},
               type: :worker,
               restart: :permanent,
               shutdown: 500
             }
    end

    test "runs the program for real, with env and cd, and kills it on stop", %{tmp_dir: tmp_dir} do
      {:ok, pid} =
        MuonTrap.Daemon.start_link(
          "sh",
          ["-c", "echo \"$GREETING from $(pwd)\"; sleep 30 & wait"],
          env: [{"GREETING", "hello"}],
          cd: tmp_dir,
          stderr_to_stdout: true
        )

      os_pid = MuonTrap.Daemon.os_pid(pid)
      assert is_integer(os_pid)
      assert wait_until(fn -> Double.daemon_output(pid) =~ "hello from #{tmp_dir}" end)

      assert [{:start, "sh", ["-c", _], opts}] = Double.calls(:muontrap)
      assert opts[:cd] == tmp_dir

      assert group_alive?(os_pid)
      GenServer.stop(pid)
      # sh gets SIGTERM and ends
      assert wait_until(fn -> not alive?(os_pid) end)
    end

    test "stop: SIGTERM to the program only, SIGKILL 500 ms later; the program outlives the server" do
      # A program that ignores SIGTERM (as pppd may while it runs its scripts).
      {:ok, pid} = MuonTrap.Daemon.start_link("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"])
      os_pid = MuonTrap.Daemon.os_pid(pid)
      assert wait_until(fn -> Double.daemon_output(pid) =~ "ready" end)

      stopped_at = System.monotonic_time(:millisecond)
      GenServer.stop(pid)
      refute Process.alive?(pid)
      # No terminate/2 kills it synchronously: it is still there right after the stop...
      assert alive?(os_pid)
      Process.sleep(300)
      assert alive?(os_pid)
      # ...and SIGKILL ends it after :delay_to_sigkill (500 ms).
      assert wait_until(fn -> not alive?(os_pid) end, 50)
      assert System.monotonic_time(:millisecond) - stopped_at >= 450
    end

    test "stop signals the direct child only, not its process group" do
      {:ok, pid} = MuonTrap.Daemon.start_link("sh", ["-c", "sleep 30 & echo child $!; wait"])
      os_pid = MuonTrap.Daemon.os_pid(pid)
      assert wait_until(fn -> Double.daemon_output(pid) =~ ~r/child \d+/ end)
      [_, child] = Regex.run(~r/child (\d+)/, Double.daemon_output(pid))

      GenServer.stop(pid)
      assert wait_until(fn -> not alive?(os_pid) end)
      # The program's own child was not signalled: it is still running.
      assert alive?(child)
      System.cmd("kill", ["-KILL", child])
    end

    test "a brutal kill of the server still ends the program (the helper does it)" do
      {:ok, pid} = MuonTrap.Daemon.start_link("sleep", ["30"])
      os_pid = MuonTrap.Daemon.os_pid(pid)
      Process.unlink(pid)
      Process.exit(pid, :kill)
      assert wait_until(fn -> not alive?(os_pid) end)
    end

    test ":delay_to_sigkill sets the delay" do
      {:ok, pid} =
        MuonTrap.Daemon.start_link("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"],
          delay_to_sigkill: 100
        )

      os_pid = MuonTrap.Daemon.os_pid(pid)
      assert wait_until(fn -> Double.daemon_output(pid) =~ "ready" end)
      GenServer.stop(pid)
      assert wait_until(fn -> not alive?(os_pid) end, 20)
    end

    test "exit status 0 stops normally, others with exit_status_to_reason" do
      Process.flag(:trap_exit, true)
      {:ok, ok} = MuonTrap.Daemon.start_link("true", [])
      assert_receive {:EXIT, ^ok, :normal}, 5_000

      {:ok, bad} = MuonTrap.Daemon.start_link("sh", ["-c", "exit 7"], exit_status_to_reason: &{:status, &1})
      assert_receive {:EXIT, ^bad, {:status, 7}}, 5_000

      {:ok, default} = MuonTrap.Daemon.start_link("false", [])
      assert_receive {:EXIT, ^default, :error_exit_status}, 5_000

      assert {:exit, "sh", 7} in Double.calls(:muontrap)
    end

    test "unknown options raise; a missing program fails to start" do
      Process.flag(:trap_exit, true)
      assert {:error, {%ArgumentError{}, _}} = MuonTrap.Daemon.start_link("true", [], bogus: 1)
      # Not in muontrap 1.6.
      assert {:error, {%ArgumentError{}, _}} = MuonTrap.Daemon.start_link("true", [], wait_for: fn -> :ok end)
      assert {:error, {%ArgumentError{}, _}} = MuonTrap.Daemon.start_link("true", [], capture_stderr_only: true)
      assert {:error, {:enoent, _}} = MuonTrap.Daemon.start_link("no-such-daemon", [])
    end

    test "a named daemon under a technology supervisor stops with the interface" do
      spec = {MuonTrap.Daemon, ["sleep", ["30"], [name: :double_test_daemon, log_output: :debug]]}
      assert :ok = VintageNet.configure("ppp0", config(child_specs: [spec]))
      Double.await_state("ppp0")
      os_pid = MuonTrap.Daemon.os_pid(:double_test_daemon)

      assert :ok = VintageNet.deconfigure("ppp0")
      Double.await_state("ppp0")
      assert wait_until(fn -> Process.whereis(:double_test_daemon) == nil end)
      # The OS process ends a moment after its Daemon (SIGTERM from the keeper).
      assert wait_until(fn -> not group_alive?(os_pid) end)
    end
  end

  # Zombies don't count: PID 1 in this container doesn't reap orphans.
  defp alive?(os_pid) do
    {out, _} = System.cmd("ps", ["-o", "stat=", "-p", "#{os_pid}"])
    out |> String.split("\n", trim: true) |> Enum.any?(&(not String.starts_with?(String.trim(&1), "Z")))
  end

  defp group_alive?(pgid) do
    {out, _} = System.cmd("ps", ["-o", "stat=", "-s", "#{pgid}"])
    out |> String.split("\n", trim: true) |> Enum.any?(&(not String.starts_with?(String.trim(&1), "Z")))
  end

  defp wait_until(fun, tries \\ 100) do
    cond do
      fun.() -> true
      tries == 0 -> false
      true -> Process.sleep(20) && wait_until(fun, tries - 1)
    end
  end
end
