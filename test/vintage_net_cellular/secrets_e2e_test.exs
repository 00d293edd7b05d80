defmodule VintageNetCellular.SecretsE2ETest do
  @moduledoc """
  A full connect with a SIM PIN and PAP/CHAP credentials, at debug level,
  then a crash of the connection manager: nothing the library produced may
  show a secret. Everything is collected and searched: every log line
  (including the port program's tracing, pppd's and the dialer's output through
  MuonTrap, and the supervisor's crash report, which prints the child's start
  arguments with the config), every property, the `status` ioctl and
  `VintageNet.info/0`.
  """
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO
  import ExUnit.CaptureLog

  alias VintageNetCellular.Test.World

  @moduletag :e2e
  @moduletag timeout: 120_000

  @pin "73159264"
  @username "cellularUserX7"
  @password "s3cretPassWord9"

  setup do
    level = Logger.level()
    Logger.configure(level: :debug)
    on_exit(fn -> Logger.configure(level: level) end)
    World.setup_e2e()
  end

  test "no PIN, username or password anywhere after a connect and a crash", %{world: world} do
    world = World.add_modem(world, :m1, args: ["--sim", "locked", "--pin", @pin])

    config = %{
      type: VintageNetCellular,
      vintage_net_cellular: %{
        sim_pin: @pin,
        service_providers: [%{apn: "internet", username: @username, password: @password, auth: :chap}]
      }
    }

    {collected, log} =
      with_log([level: :debug], fn ->
        assert :ok = VintageNet.configure("ppp0", config)
        VintageNet.Double.await(["interface", "ppp0", "mobile", "state"], :connected, 30_000)

        # The secrets were really used, or this test would pass vacuously: the
        # SIM was locked with @pin and is now ready; the password is in pppd's
        # 0600 options file (the one place it is meant to be).
        assert VintageNet.get(["interface", "ppp0", "mobile", "sim"]) == :ready
        assert "AT+CPIN=<redacted>" in World.received(world, :m1, "at")
        options_file = Path.join(world.tmpdir, "pppd_options.ppp0")
        assert File.read!(options_file) =~ @password
        assert Bitwise.band(File.stat!(options_file).mode, 0o077) == 0

        # Typed at the console, with a space before "=" (redaction by pattern
        # used to miss these), and an echo of the secret in a plain command.
        _ = VintageNetCellular.at(~s(AT+CPIN = "#{@pin}"))
        _ = VintageNetCellular.at(~s(AT+CGAUTH =1,2,"#{@username}","#{@password}"))
        _ = VintageNetCellular.at(~s(AT+XTEST="#{@password}"))

        status = VintageNet.ioctl("ppp0", :status)
        info = capture_io(fn -> VintageNet.info() end)

        # Every property but VintageNet's own copy of the configuration (it
        # holds the config as given, as it does WiFi PSKs; VintageNet.info
        # prints it redacted, checked below).
        properties = for {name, _} = p <- VintageNet.get_by_prefix([]), List.last(name) != "config", do: p
        send(self(), {:info, info})

        # What a crash report prints of the connection manager's state (OTP
        # formats it with format_status/1), then a real crash.
        pid = VintageNetCellular.Interface.whereis("ppp0", :connection)
        sys_text = inspect(:sys.get_status(pid), limit: :infinity, printable_limit: :infinity)
        assert sys_text =~ "service_providers"
        send(self(), {:sys_status, sys_text})
        :sys.terminate(pid, :test_crash)
        VintageNet.Double.await(["interface", "ppp0", "mobile", "state"], :connected, 30_000)
        Process.sleep(200)

        assert_received {:sys_status, sys_status}
        inspect({status, properties}, limit: :infinity, printable_limit: :infinity) <> sys_status
      end)

    everything = collected <> "\n" <> log
    assert log =~ "AT+CPIN", "the debug log should show the AT traffic"

    for secret <- [@pin, @username, @password] do
      refute everything =~ secret, "#{secret} found:\n" <> excerpt(everything, secret)
    end

    # VintageNet.info redacts by key (:password, :psk...), never by value:
    # the normalized config keeps the PIN and the username under :password
    # keys, so none of the three secrets is printed.
    assert_received {:info, info}
    assert info =~ "Interface ppp0"

    for secret <- [@pin, @username, @password] do
      refute info =~ secret, "VintageNet.info printed #{secret}:\n" <> excerpt(info, secret)
    end
  end

  defp excerpt(text, secret) do
    text
    |> String.split("\n")
    |> Enum.filter(&String.contains?(&1, secret))
    |> Enum.take(5)
    |> Enum.join("\n")
  end
end
