defmodule VintageNetCellular.PPPChatTest do
  # Runs the real `chat` with the generated chat script against the modem
  # simulator's PPP pty, the way pppd would: pppd puts the tty in raw mode and
  # runs the `connect` command with the tty as stdin and stdout.
  #
  # Skipped when chat is not installed, unless VNC_REQUIRE_CHAT=1.
  use ExUnit.Case, async: true

  alias VintageNetCellular.PPP

  @chat System.find_executable("chat") || Enum.find(["/usr/sbin/chat", "/sbin/chat"], &File.exists?/1)

  if @chat == nil and System.get_env("VNC_REQUIRE_CHAT") != "1" do
    @moduletag skip: "chat (Debian package ppp) is not installed; set VNC_REQUIRE_CHAT=1 to fail instead"
  end

  @moduletag :tmp_dir

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

  # Runs `chat -v -s -f script` on the tty like pppd's connect does.
  defp run_chat(tty, script) do
    assert @chat, "chat is required (VNC_REQUIRE_CHAT=1) but was not found"

    System.cmd(
      "/bin/sh",
      ["-c", ~S(exec <"$2" >"$2" && stty raw -echo && exec "$0" -v -s -f "$1"), @chat, script, tty],
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

  test "dials the provisioned context to CONNECT", %{tmp_dir: dir} do
    {port, tty} = start_sim(["--quiet", "--register-after-ms", "0", "--provisioned", "internet"])
    script = Path.join(dir, "chatscript.ppp0")
    File.write!(script, PPP.chat_script(cid: 1))

    {log, status} = run_chat(tty, script)
    assert status == 0, log
    assert log =~ "send (ATD*99***1#^M)"
    assert log =~ "CONNECT"
    refute log =~ "internet"
    assert ~s({"event":"connected","port":"ppp"}) in sim_events(port)
  end

  test "fails with the NO CARRIER abort status when the context has no APN", %{tmp_dir: dir} do
    {_port, tty} = start_sim(["--quiet", "--register-after-ms", "0"])
    script = Path.join(dir, "chatscript.ppp0")
    File.write!(script, PPP.chat_script(cid: 1))

    {log, status} = run_chat(tty, script)
    assert log =~ "Failed (NO CARRIER)"
    # chat exits 4 + the index of the abort string that matched.
    assert status == 4 + Enum.find_index(PPP.chat_aborts(), &(&1 == "NO CARRIER"))
  end
end
