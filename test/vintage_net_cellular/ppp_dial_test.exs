defmodule VintageNetCellular.PPPDialTest do
  # Runs the dialer (`cellular_port dial <cid>`, pppd's connect program)
  # against the modem simulator's PPP pty, the way pppd would: pppd puts the
  # tty in raw mode and runs the `connect` command through /bin/sh with the
  # tty as stdin and stdout.
  use ExUnit.Case, async: true

  alias VintageNetCellular.PPP

  @sim Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_sim")

  # Starts the simulator and returns its port and its PPP pty.
  defp start_sim(args) do
    assert File.regular?(@sim), "run `mix compile` to build #{@sim}"
    port = Port.open({:spawn_executable, @sim}, [:binary, :exit_status, {:line, 4096}, args: args])
    on_exit(fn -> if Port.info(port), do: Port.close(port) end)

    receive do
      {^port, {:data, {:eol, line}}} ->
        [_, ppp] = Regex.run(~r/"ppp":"([^"]+)"/, line)
        assert line =~ ~s("event":"ready")
        {port, ppp}
    after
      10_000 -> flunk("the simulator did not report ready")
    end
  end

  # Runs pppd's connect command (as PPP.pppd_args/1 builds it) on the tty.
  defp run_connect(tty, cid, extra \\ "") do
    ["connect", connect | _] = PPP.pppd_args(ifname: "ppp0", tty: tty, tmpdir: "/tmp/vn", cid: cid)

    System.cmd(
      "/bin/sh",
      ["-c", ~S(exec <"$1" >"$1" && stty raw -echo && exec /bin/sh -c "$0"), connect <> extra, tty],
      stderr_to_stdout: true
    )
  end

  defp sim_events(port, acc \\ []) do
    receive do
      {^port, {:data, {:eol, line}}} -> sim_events(port, [line | acc])
    after
      500 -> Enum.reverse(acc)
    end
  end

  test "dials the provisioned context to CONNECT" do
    {port, tty} = start_sim(["--quiet", "--register-after-ms", "0", "--provisioned", "internet"])

    {log, status} = run_connect(tty, 1)
    assert status == 0, log
    assert log =~ "cellular_port dial: CONNECT"
    refute log =~ "internet"
    assert ~s({"event":"connected","port":"ppp"}) in sim_events(port)
  end

  test "fails with a clear message when the context has no APN (NO CARRIER)" do
    {_port, tty} = start_sim(["--quiet", "--register-after-ms", "0"])

    {log, status} = run_connect(tty, 1)
    assert log =~ "cellular_port dial: the dial failed: NO CARRIER"
    assert status == 4
  end

  test "a PPP port that does not answer AT times out" do
    {_port, tty} = start_sim(["--quiet", "--register-after-ms", "0", "--provisioned", "internet"])
    # A port already in data mode swallows AT: a call up on it stands for that.
    {_, 0} = run_connect(tty, 1)

    started = System.monotonic_time(:millisecond)
    {log, status} = run_connect(tty, 1, " --timeout 1")
    assert log =~ "no OK to AT on the PPP port"
    assert status == 3
    assert System.monotonic_time(:millisecond) - started < 5_000
  end

  test "bad arguments are refused before the tty is touched" do
    {log, status} = System.cmd(PPP.dialer_path(), ["dial", "internet"], stderr_to_stdout: true)
    assert status == 1
    assert log =~ "CID must be 1..99"
  end
end
