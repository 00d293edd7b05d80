defmodule VintageNetCellular.PPP.NotifierTest do
  # pppd can't run here (no kernel PPP), so these tests run the real
  # `cellular_port` executable (notifier mode) exactly as pppd 2.4.9+ would: through a
  # per-event symlink (argv[0] = the ip-up-script path), with pppd's six
  # arguments (ipparam = the socket) and an environment that holds only
  # what pppd sets (`env -i`).
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  alias VintageNetCellular.PPP
  alias VintageNetCellular.PPP.Notifier

  @notifier Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")

  setup do
    # Unix socket paths must be short (107 bytes); ExUnit's tmp_dir can be longer.
    short = Path.join(System.tmp_dir!(), "vnc#{System.unique_integer([:positive])}")
    File.mkdir_p!(short)
    on_exit(fn -> File.rm_rf(short) end)

    paths = PPP.paths(short, "ppp0")
    :ok = PPP.link_scripts(@notifier, [paths.ip_up, paths.ip_down, paths.ipv6_up, paths.ipv6_down])
    %{paths: paths}
  end

  # Runs a script as pppd does: argv[0] = script, cleared environment.
  defp run_as_pppd(script, args, env) do
    env_args = Enum.map(env, fn {k, v} -> "#{k}=#{v}" end)
    System.cmd("/usr/bin/env", ["-i" | env_args] ++ [script | args], stderr_to_stdout: true)
  end

  defp pppd_args(paths, local, remote),
    do: ["ppp0", "/dev/ttyUSB3", "115200", local, remote, paths.socket]

  defp start_notifier(paths, extra \\ []) do
    start_supervised!({Notifier, [path: paths.socket, ifname: "ppp0", notify: self()] ++ extra})
  end

  test "the notifier executable was built" do
    assert File.regular?(@notifier), "run `mix compile` to build #{@notifier}"
  end

  test "ip-up reaches the BEAM with addresses, DNS and the whole environment", %{paths: paths} do
    start_notifier(paths)

    env = [
      {"IFNAME", "ppp0"},
      {"DEVICE", "/dev/ttyUSB3"},
      {"SPEED", "115200"},
      {"IPLOCAL", "10.45.3.17"},
      {"IPREMOTE", "10.64.64.64"},
      {"DNS1", "8.8.8.8"},
      {"DNS2", "8.8.4.4"},
      {"USEPEERDNS", "1"},
      {"ORIG_UID", "0"},
      {"PPPLOGNAME", "root"},
      {"PPPD_PID", "1234"}
    ]

    assert {"", 0} = run_as_pppd(paths.ip_up, pppd_args(paths, "10.45.3.17", "10.64.64.64"), env)

    assert_receive {Notifier, "ppp0", event}, 5_000

    assert %{
             kind: :ip_up,
             ifname: "ppp0",
             device: "/dev/ttyUSB3",
             speed: 115_200,
             local: {10, 45, 3, 17},
             remote: {10, 64, 64, 64},
             dns: [{8, 8, 8, 8}, {8, 8, 4, 4}],
             ll_local: nil,
             ipparam: ipparam,
             truncated: false,
             lossy: []
           } = event

    assert ipparam == paths.socket
    # Exactly pppd's variables: nothing leaked in, nothing lost.
    assert event.env == Map.new(env)
    assert event.args == pppd_args(paths, "10.45.3.17", "10.64.64.64")
  end

  test "ip-down carries the statistics pppd adds", %{paths: paths} do
    start_notifier(paths)

    env = [
      {"IFNAME", "ppp0"},
      {"IPLOCAL", "10.45.3.17"},
      {"IPREMOTE", "10.64.64.64"},
      {"CONNECT_TIME", "61"},
      {"BYTES_SENT", "4096"},
      {"BYTES_RCVD", "8192"}
    ]

    assert {"", 0} = run_as_pppd(paths.ip_down, pppd_args(paths, "10.45.3.17", "10.64.64.64"), env)
    assert_receive {Notifier, "ppp0", %{kind: :ip_down, stats: stats, local: {10, 45, 3, 17}}}, 5_000
    assert stats == %{connect_time: 61, bytes_sent: 4096, bytes_received: 8192}
  end

  test "ipv6-up and ipv6-down carry the link-local addresses", %{paths: paths} do
    start_notifier(paths)
    ll_local = "fe80::5c1e:4aff:fe01:2b3c"
    ll_remote = "fe80::1"
    env = [{"IFNAME", "ppp0"}, {"LLLOCAL", ll_local}, {"LLREMOTE", ll_remote}]

    assert {"", 0} = run_as_pppd(paths.ipv6_up, pppd_args(paths, ll_local, ll_remote), env)
    assert_receive {Notifier, "ppp0", %{kind: :ipv6_up} = up}, 5_000
    assert up.ll_local == {0xFE80, 0, 0, 0, 0x5C1E, 0x4AFF, 0xFE01, 0x2B3C}
    assert up.ll_remote == {0xFE80, 0, 0, 0, 0, 0, 0, 1}
    assert up.local == nil

    assert {"", 0} = run_as_pppd(paths.ipv6_down, pppd_args(paths, ll_local, ll_remote), env)
    assert_receive {Notifier, "ppp0", %{kind: :ipv6_down}}, 5_000
  end

  test "the event can be named on the command line instead of by argv[0]", %{paths: paths} do
    start_notifier(paths)
    args = ["ip-up" | pppd_args(paths, "10.0.0.2", "10.0.0.1")]
    assert {"", 0} = run_as_pppd(@notifier, args, [{"IFNAME", "ppp0"}])
    assert_receive {Notifier, "ppp0", %{kind: :ip_up, local: {10, 0, 0, 2}}}, 5_000
  end

  test "a bad address is rejected with a clear log and no event", %{paths: paths} do
    start_notifier(paths)

    log =
      capture_log(fn ->
        env = [{"IFNAME", "ppp0"}, {"IPLOCAL", "10.0.0.300"}, {"IPREMOTE", "10.64.64.64"}]
        assert {"", 0} = run_as_pppd(paths.ip_up, pppd_args(paths, "10.0.0.300", "10.64.64.64"), env)
        refute_receive {Notifier, _, _}, 500
      end)

    assert log =~ ~s(IPLOCAL "10.0.0.300" is not an IPv4 address)
  end

  test "garbage datagrams are logged and the notifier keeps working", %{paths: paths} do
    pid = start_notifier(paths)
    {:ok, sender} = :gen_udp.open(0, [:local, :binary])

    log =
      capture_log(fn ->
        :ok = :gen_udp.send(sender, {:local, paths.socket}, 0, <<0xC1, 0xFF, 0x00>>)
        :ok = :gen_udp.send(sender, {:local, paths.socket}, 0, "")
        refute_receive {Notifier, _, _}, 300
      end)

    :gen_udp.close(sender)
    assert log =~ "dropped a pppd notification (malformed)"
    assert log =~ "dropped a pppd notification (empty)"
    assert Process.alive?(pid)

    assert {"", 0} = run_as_pppd(paths.ip_up, pppd_args(paths, "10.0.0.2", "10.0.0.1"), [{"IFNAME", "ppp0"}])
    assert_receive {Notifier, "ppp0", %{kind: :ip_up}}, 5_000
  end

  test "the executable exits 0 and says why when nobody listens", %{paths: paths} do
    {output, status} = run_as_pppd(paths.ip_up, pppd_args(paths, "10.0.0.2", "10.0.0.1"), [{"IFNAME", "ppp0"}])
    assert status == 0
    assert output =~ "ip-up event not delivered to #{paths.socket}"
  end

  test "the executable exits 0 and says why without ipparam", %{paths: paths} do
    {output, status} = run_as_pppd(paths.ip_up, ["ppp0", "/dev/ttyUSB3", "115200", "10.0.0.2", "10.0.0.1"], [])
    assert status == 0
    assert output =~ "ipparam"
  end

  test "callbacks: a fun/2 or an {m, f, a}", %{paths: paths} do
    test_pid = self()
    callback = fn ifname, event -> send(test_pid, {:fun, ifname, event.kind}) end
    start_supervised!({Notifier, path: paths.socket, ifname: "ppp0", callback: callback})
    run_as_pppd(paths.ip_up, pppd_args(paths, "10.0.0.2", "10.0.0.1"), [{"IFNAME", "ppp0"}])
    assert_receive {:fun, "ppp0", :ip_up}, 5_000
    stop_supervised!({Notifier, "ppp0"})

    start_supervised!({Notifier, path: paths.socket, ifname: "ppp0", callback: {Kernel, :send, []}}, id: :mfa)
    # apply(Kernel, :send, [ifname, event]) would send to a string: show that
    # the arguments come first and a raising callback does not kill the notifier.
    log =
      capture_log(fn ->
        run_as_pppd(paths.ip_up, pppd_args(paths, "10.0.0.2", "10.0.0.1"), [{"IFNAME", "ppp0"}])
        Process.sleep(300)
      end)

    assert log =~ "the pppd event callback raised"
  end

  test "mfa callbacks get ifname and event before the extra arguments", %{paths: paths} do
    start_supervised!({Notifier, path: paths.socket, ifname: "ppp0", callback: {__MODULE__, :relay, [self()]}})
    run_as_pppd(paths.ip_down, pppd_args(paths, "10.0.0.2", "10.0.0.1"), [{"IFNAME", "ppp0"}])
    assert_receive {:relayed, "ppp0", :ip_down}, 5_000
  end

  @doc false
  def relay(ifname, event, pid), do: send(pid, {:relayed, ifname, event.kind})

  test "a mismatching interface name is delivered and logged", %{paths: paths} do
    start_notifier(paths)

    log =
      capture_log(fn ->
        args = ["ppp7", "/dev/ttyUSB3", "115200", "10.0.0.2", "10.0.0.1", paths.socket]
        run_as_pppd(paths.ip_up, args, [])
        assert_receive {Notifier, "ppp0", %{ifname: "ppp7"}}, 5_000
      end)

    assert log =~ ~s(pppd reported ip_up for "ppp7")
  end

  describe "the socket file" do
    test "a stale socket is replaced and the file is removed on stop", %{paths: paths} do
      {:ok, stale} = :gen_udp.open(0, [:binary, {:ifaddr, {:local, paths.socket}}])
      :gen_udp.close(stale)
      assert File.exists?(paths.socket)

      pid = start_notifier(paths)
      run_as_pppd(paths.ip_up, pppd_args(paths, "10.0.0.2", "10.0.0.1"), [{"IFNAME", "ppp0"}])
      assert_receive {Notifier, "ppp0", %{kind: :ip_up}}, 5_000

      :ok = Notifier.stop(pid)
      refute File.exists?(paths.socket)
    end

    test "anything else at the path is left alone and refused", %{paths: paths} do
      File.write!(paths.socket, "precious")
      Process.flag(:trap_exit, true)

      assert {:error, {:socket, message}} = Notifier.start_link(path: paths.socket, ifname: "ppp0", notify: self())
      assert message =~ "is a regular, not a stale socket"
      assert File.read!(paths.socket) == "precious"
    end

    test "options are checked", %{paths: paths} do
      Process.flag(:trap_exit, true)
      assert {:error, {:missing_option, _}} = Notifier.start_link(ifname: "ppp0", notify: self())
      assert {:error, {:missing_option, _}} = Notifier.start_link(path: paths.socket, notify: self())
      assert {:error, {:bad_delivery, _}} = Notifier.start_link(path: paths.socket, ifname: "ppp0")

      assert {:error, {:bad_delivery, _}} =
               Notifier.start_link(path: paths.socket, ifname: "ppp0", notify: self(), callback: fn _, _ -> :ok end)

      long = "/tmp/" <> String.duplicate("x", 120)
      assert {:error, {:bad_path, _}} = Notifier.start_link(path: long, ifname: "ppp0", notify: self())
    end
  end

  test "decode/1 reports datagram errors by reason" do
    assert {:error, {:empty, _}} = Notifier.decode("")
    assert {:error, {:malformed, _}} = Notifier.decode(<<0x92, 0x01>>)
  end
end
