defmodule VintageNetCellular.PPPTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  alias VintageNetCellular.PPP
  alias VintageNetCellular.PPP.Event

  doctest VintageNetCellular.PPP
  doctest VintageNetCellular.PPP.Event

  @base [ifname: "ppp0", tty: "ttyUSB3", speed: 115_200, tmpdir: "/tmp/vintage_net", cid: 1]

  defp args(extra \\ []), do: PPP.pppd_args(Keyword.merge(@base, extra))

  # The value following `option` in an argument list.
  defp value_of(args, option) do
    case Enum.drop_while(args, &(&1 != option)) do
      [^option, value | _] -> value
      _ -> nil
    end
  end

  describe "pppd_args/1" do
    test "runs the dialer through connect, on the tty, as a foreground daemon" do
      args = args()
      dial = PPP.dialer_path() <> " dial 1"

      assert ["connect", ^dial, "/dev/ttyUSB3", "115200" | _] = args
      assert PPP.dialer_path() == Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")

      for flag <- ~w(nodetach noauth noipdefault usepeerdns persist nodefaultroute nocrtscts) do
        assert flag in args, "#{flag} missing from #{inspect(args)}"
      end

      assert value_of(args, "ifname") == "ppp0"
      assert value_of(args, "holdoff") == "5"
      assert value_of(args, "maxfail") == "0"
      assert value_of(args, "lcp-echo-interval") == "30"
      assert value_of(args, "lcp-echo-failure") == "4"
      refute "debug" in args
    end

    test "never touches the default route: RouteManager owns routes" do
      args = args(pdp_type: :ipv4v6, pppd_version: {2, 5, 0})
      refute Enum.any?(args, &(&1 in ["defaultroute", "replacedefaultroute", "defaultroute6"]))
    end

    test "points the scripts at per-event links and passes the socket as ipparam" do
      args = args()
      paths = PPP.paths("/tmp/vintage_net", "ppp0")
      assert value_of(args, "ipparam") == paths.socket
      assert value_of(args, "ip-up-script") == "/tmp/vintage_net/ppp0.ip-up"
      assert value_of(args, "ip-down-script") == "/tmp/vintage_net/ppp0.ip-down"
    end

    test "sets the IPv6 scripts only from pppd 2.5.0" do
      for version <- [{2, 4, 9}, "2.4.9"] do
        args = args(pppd_version: version)
        refute "ipv6-up-script" in args
        refute "ipv6-down-script" in args
      end

      for version <- [{2, 5, 0}, "2.5.1", "pppd version 2.5.2"] do
        args = args(pppd_version: version)
        assert value_of(args, "ipv6-up-script") == "/tmp/vintage_net/ppp0.ipv6-up"
        assert value_of(args, "ipv6-down-script") == "/tmp/vintage_net/ppp0.ipv6-down"
      end
    end

    test "+ipv6 follows the PDP type" do
      refute "+ipv6" in args()
      refute "+ipv6" in args(pdp_type: :ipv4)
      assert "+ipv6" in args(pdp_type: :ipv4v6)
      refute "noip" in args(pdp_type: :ipv4v6)
      assert "+ipv6" in args(pdp_type: :ipv6)
      assert "noip" in args(pdp_type: :ipv6)
    end

    test "usepeerdns unless DNS servers are configured" do
      assert "usepeerdns" in args(dns: [])
      refute "usepeerdns" in args(dns: [{1, 1, 1, 1}])
    end

    test "credentials stay off the command line; only the options file is named" do
      args = args(credentials?: true)
      assert value_of(args, "file") == "/tmp/vintage_net/pppd_options.ppp0"
      refute "user" in args
      refute "password" in args
      refute "file" in args(credentials?: false)
    end

    test "refuses credentials and unknown keys without echoing their values" do
      for {key, value} <- [password: "s3cr3t-pw", username: "someone", apn: "internet.apn"] do
        error = assert_raise ArgumentError, fn -> args([{key, value}]) end
        assert error.message =~ inspect(key)
        refute error.message =~ value
      end
    end

    test "optional settings" do
      args =
        args(
          debug: true,
          flow_control: :hardware,
          holdoff: 20,
          maxfail: 3,
          lcp_echo_interval: 10,
          lcp_echo_failure: 6,
          dialer: "/usr/lib/vnc/cellular_port",
          cid: 3,
          speed: 921_600,
          tty: "/dev/ttyACM0"
        )

      assert ["connect", "/usr/lib/vnc/cellular_port dial 3", "/dev/ttyACM0", "921600" | _] = args
      assert "debug" in args
      assert "crtscts" in args
      refute "nocrtscts" in args
      assert value_of(args, "holdoff") == "20"
      assert value_of(args, "maxfail") == "3"
      assert value_of(args, "lcp-echo-interval") == "10"
      assert value_of(args, "lcp-echo-failure") == "6"
    end

    test "injection attempts raise and name the key" do
      attempts = [
        tty: "ttyUSB0 defaultroute",
        tty: "ttyUSB0\nlock",
        tty: "../etc/passwd",
        tty: "/etc/passwd",
        tty: "/dev/../etc/shadow",
        tty: "",
        tty: :ttyUSB0,
        ifname: "ppp0;reboot",
        ifname: "ppp0 defaultroute",
        ifname: "averyveryverylongname",
        ifname: "",
        tmpdir: "/tmp/$(reboot)",
        tmpdir: "/tmp/a b",
        tmpdir: "tmp/relative",
        tmpdir: "/tmp/../etc",
        dialer: "cellular_port dial 1; reboot",
        dialer: "/usr/lib/cellular_port`id`",
        cid: "1#\nATH",
        cid: "1",
        cid: 0,
        cid: 100,
        cid: 1.0,
        speed: 115_201,
        speed: "115200",
        pdp_type: :ipx,
        flow_control: :software,
        holdoff: -1,
        holdoff: "5 defaultroute",
        maxfail: 1.5,
        lcp_echo_interval: 1_000_000,
        pppd_version: "latest",
        debug: "yes",
        credentials?: "yes",
        dns: "8.8.8.8"
      ]

      for {key, value} <- attempts do
        error = assert_raise ArgumentError, fn -> args([{key, value}]) end
        assert error.message =~ inspect(key), "#{inspect({key, value})}: #{error.message}"
      end
    end

    test "required keys" do
      for key <- [:ifname, :tty, :tmpdir] do
        error = assert_raise ArgumentError, fn -> PPP.pppd_args(Keyword.delete(@base, key)) end
        assert error.message == "#{inspect(key)} is required"
      end
    end

    test "the socket path must fit a unix socket address" do
      long = "/tmp/" <> String.duplicate("d", 100)
      error = assert_raise ArgumentError, fn -> args(tmpdir: long) end
      assert error.message =~ "107 bytes"
    end
  end

  describe "tty_path!/1" do
    test "accepts /dev names and paths below /dev" do
      assert PPP.tty_path!("ttyUSB2") == "/dev/ttyUSB2"
      assert PPP.tty_path!("/dev/ttyUSB2") == "/dev/ttyUSB2"

      assert PPP.tty_path!("serial/by-id/usb-Quectel_EG25-if03-port0") ==
               "/dev/serial/by-id/usb-Quectel_EG25-if03-port0"

      assert PPP.tty_path!("/dev/pts/12") == "/dev/pts/12"
    end
  end

  describe "parse_version/1" do
    test "reads pppd's own output and plain versions" do
      assert PPP.parse_version("pppd version 2.4.9\n") == {:ok, {2, 4, 9}}
      assert PPP.parse_version("pppd version 2.5.1-dev") == {:ok, {2, 5, 1}}
      assert PPP.parse_version({2, 5, 0}) == {:ok, {2, 5, 0}}
      assert PPP.parse_version("pppd") == :error
      assert PPP.parse_version({2, 5}) == :error
      assert PPP.parse_version(nil) == :error
    end
  end

  describe "the dial" do
    test "has no place for an APN or credentials" do
      for {key, value} <- [apn: "apn-x7", username: "user-x8", password: "secret-x9"] do
        error = assert_raise ArgumentError, fn -> args([{key, value}]) end
        assert error.message =~ inspect(key)
        refute error.message =~ value
      end
    end

    test "needs the context" do
      error = assert_raise ArgumentError, fn -> PPP.pppd_args(Keyword.delete(@base, :cid)) end
      assert error.message =~ ":cid is required"
    end
  end

  describe "options_file/2" do
    test "writes quoted, escaped user and password options" do
      assert PPP.options_file("user", "pass") == "user \"user\"\npassword \"pass\"\n"
      assert PPP.options_file("a b", "x\"y") == "user \"a\\040b\"\npassword \"x\\042y\"\n"
    end

    test "round-trips every byte through pppd's option-file word rules" do
      hostile = [
        "plain",
        "with space",
        "quote\"double",
        "quote'single",
        "back\\slash",
        "#comment",
        "new\nline user evil",
        "tab\tand\rcr",
        "ünïcødé",
        "\\101 looks like an escape",
        "",
        for(b <- 1..255, into: "", do: <<b>>)
      ]

      for password <- hostile do
        text = PPP.options_file("someone@apn", password)
        assert pppd_words(text) == ["user", "someone@apn", "password", password], inspect(password)
        # Nothing but letters, digits and escapes inside the quotes.
        assert text =~ ~r/\Auser "[A-Za-z0-9\\]*"\npassword "[A-Za-z0-9\\]*"\n\z/
      end
    end

    test "refuses what pppd can't represent" do
      assert_raise ArgumentError, ~r/:password contains a NUL byte/, fn -> PPP.options_file("u", "a\0b") end
      assert_raise ArgumentError, ~r/:username/, fn -> PPP.options_file("", "p") end
      assert_raise ArgumentError, ~r/:username/, fn -> PPP.options_file(nil, "p") end
      assert_raise ArgumentError, ~r/:password/, fn -> PPP.options_file("u", nil) end
      assert_raise ArgumentError, ~r/longer than 1024/, fn -> PPP.options_file("u", String.duplicate("a", 1025)) end
    end
  end

  # A reader for pppd option files, written from pppd(8)'s "OPTIONS FILES" rules:
  # words split on whitespace, '"' or "'" quote, '\' escapes (C escapes, \s,
  # \ooo octal, \xhh), '#' starts a comment outside a word.
  defp pppd_words(text), do: words(text, [])

  defp words("", acc), do: Enum.reverse(acc)
  defp words(<<c, rest::binary>>, acc) when c in [?\s, ?\t, ?\n, ?\r], do: words(rest, acc)
  defp words("#" <> rest, acc), do: rest |> String.split("\n", parts: 2) |> Enum.at(1, "") |> words(acc)

  defp words(text, acc) do
    {word, rest} = word(text, nil, "")
    words(rest, [word | acc])
  end

  defp word("", _quote, word), do: {word, ""}

  defp word("\\" <> rest, quote, word) do
    {value, rest} = escape(rest)
    word(rest, quote, word <> value)
  end

  defp word(<<q, rest::binary>>, nil, word) when q in [?", ?'], do: word(rest, q, word)
  defp word(<<q, rest::binary>>, q, word), do: word(rest, nil, word)
  defp word(<<c, _::binary>> = rest, nil, word) when c in [?\s, ?\t, ?\n, ?\r, ?#], do: {word, rest}
  defp word(<<c, rest::binary>>, quote, word), do: word(rest, quote, word <> <<c>>)

  defp escape(<<a, b, c, rest::binary>>) when a in ?0..?7 and b in ?0..?7 and c in ?0..?7,
    do: {<<String.to_integer(<<a, b, c>>, 8)>>, rest}

  defp escape(<<c, rest::binary>>) do
    value = %{?a => 7, ?b => 8, ?f => 12, ?n => 10, ?r => 13, ?s => 32, ?t => 9}
    {<<Map.get(value, c, c)>>, rest}
  end

  describe "write_secret_file!/2" do
    @describetag :tmp_dir

    test "creates the file with mode 0600 and the contents", %{tmp_dir: dir} do
      path = Path.join(dir, "pppd_options.ppp0")
      assert PPP.write_secret_file!(path, PPP.options_file("u", "p")) == :ok
      assert File.read!(path) == "user \"u\"\npassword \"p\"\n"
      assert Bitwise.band(File.stat!(path).mode, 0o777) == 0o600
      # No private directory is left behind.
      assert File.ls!(dir) == ["pppd_options.ppp0"]
    end

    test "replaces a world-readable file with a private one", %{tmp_dir: dir} do
      path = Path.join(dir, "secret")
      File.write!(path, "old")
      File.chmod!(path, 0o644)
      PPP.write_secret_file!(path, ["new", ?!])
      assert File.read!(path) == "new!"
      assert Bitwise.band(File.stat!(path).mode, 0o777) == 0o600
    end

    test "raises and cleans up when the file can't be written", %{tmp_dir: dir} do
      File.mkdir_p!(Path.join(dir, "taken"))
      # Renaming a file over a non-empty directory fails.
      File.write!(Path.join([dir, "taken", "x"]), "")
      assert_raise File.RenameError, fn -> PPP.write_secret_file!(Path.join(dir, "taken"), "s") end
      assert Enum.sort(File.ls!(dir)) == ["taken"]
    end
  end

  describe "up_cmds/1" do
    @describetag :tmp_dir

    test "are {:fun, m, f, a} entries that return :ok and prepare everything" do
      # paths/2 accepts only plain path characters; ExUnit's tmp_dir names have commas.
      dir = Path.join(System.tmp_dir!(), "vnc_up_cmds_#{System.unique_integer([:positive])}")
      File.mkdir_p!(dir)
      on_exit(fn -> File.rm_rf(dir) end)
      notifier = Path.join(dir, "cellular_notify")
      File.write!(notifier, "#!/bin/sh\n")
      fake_mknod = Path.join(dir, "fake_mknod")
      File.write!(fake_mknod, "#!/bin/sh\necho \"$@\" > \"$1\"\n")
      File.chmod!(fake_mknod, 0o755)

      cmds =
        PPP.up_cmds(
          tmpdir: Path.join(dir, "vn"),
          ifname: "ppp1",
          notifier: notifier,
          dev_ppp: Path.join(dir, "dev/ppp"),
          lock_dir: Path.join(dir, "run/pppd/lock"),
          mknod: fake_mknod
        )

      File.mkdir_p!(Path.join(dir, "dev"))

      for {:fun, m, f, a} <- cmds, do: assert(apply(m, f, a) == :ok)
      assert length(cmds) == 3

      assert File.read!(Path.join(dir, "dev/ppp")) == "#{Path.join(dir, "dev/ppp")} c 108 0\n"
      assert File.dir?(Path.join(dir, "run/pppd/lock"))

      for kind <- ~w(ip-up ip-down ipv6-up ipv6-down) do
        assert File.read_link!(Path.join(dir, "vn/ppp1.#{kind}")) == notifier
      end

      # Running them again is harmless (links are replaced, /dev/ppp is left alone).
      for {:fun, m, f, a} <- cmds, do: assert(apply(m, f, a) == :ok)
    end

    test "the default notifier is the one in priv" do
      [_, _, {:fun, PPP, :link_scripts, [notifier, _links]}] = PPP.up_cmds(tmpdir: "/tmp/vn", ifname: "ppp0")
      assert notifier == Path.join(:code.priv_dir(:vintage_net_cellular), "native/cellular_port")
    end

    test "a missing mknod is logged, not fatal", %{tmp_dir: dir} do
      log =
        capture_log(fn ->
          assert PPP.ensure_dev_ppp(Path.join(dir, "ppp"), "no-such-mknod-anywhere") == :ok
        end)

      assert log =~ "no-such-mknod-anywhere was not found"
    end

    test "link_scripts reports a link it can't make", %{tmp_dir: dir} do
      File.write!(Path.join(dir, "file"), "")
      assert {:error, message} = PPP.link_scripts("/x", [Path.join(dir, "file/sub/ppp0.ip-up")])
      assert message =~ "can't link"
    end
  end

  test "cleanup_files/1 lists everything made per interface" do
    paths = PPP.paths("/tmp/vn", "ppp0")

    assert Enum.sort(PPP.cleanup_files(paths)) ==
             Enum.sort([
               "/tmp/vn/pppd_options.ppp0",
               "/tmp/vn/ppp0.notify",
               "/tmp/vn/ppp0.ip-up",
               "/tmp/vn/ppp0.ip-down",
               "/tmp/vn/ppp0.ipv6-up",
               "/tmp/vn/ppp0.ipv6-down"
             ])
  end

  describe "Event.from_datagram/1" do
    defp raw(kind, args, env) do
      %{format: 2, kind: kind, program: "/x/ppp0.#{kind}", args: args, env: env, truncated: false, lossy: []}
    end

    @args ["ppp0", "/dev/ttyUSB3", "115200", "10.0.0.2", "10.64.64.64", "/tmp/vn/ppp0.notify"]

    test "ip_up from pppd's environment" do
      env = [
        {"IFNAME", "ppp0"},
        {"DEVICE", "/dev/ttyUSB3"},
        {"SPEED", "115200"},
        {"IPLOCAL", "10.0.0.2"},
        {"IPREMOTE", "10.64.64.64"},
        {"DNS1", "8.8.8.8"},
        {"DNS2", "8.8.4.4"},
        {"USEPEERDNS", "1"},
        {"PPPLOGNAME", "root"}
      ]

      assert {:ok, event} = Event.from_datagram(raw(:ip_up, @args, env))

      assert %{
               kind: :ip_up,
               ifname: "ppp0",
               device: "/dev/ttyUSB3",
               speed: 115_200,
               ipparam: "/tmp/vn/ppp0.notify",
               local: {10, 0, 0, 2},
               remote: {10, 64, 64, 64},
               dns: [{8, 8, 8, 8}, {8, 8, 4, 4}],
               ll_local: nil,
               ll_remote: nil,
               stats: nil,
               peer_name: nil
             } = event

      assert event.env["PPPLOGNAME"] == "root"
      assert event.args == @args
    end

    test "falls back to the arguments when the environment lacks a value" do
      assert {:ok, event} = Event.from_datagram(raw(:ip_up, @args, []))
      assert {event.ifname, event.local, event.remote, event.dns} == {"ppp0", {10, 0, 0, 2}, {10, 64, 64, 64}, []}
    end

    test "the environment wins over the arguments" do
      assert {:ok, event} = Event.from_datagram(raw(:ip_up, @args, [{"IPLOCAL", "10.0.0.9"}]))
      assert event.local == {10, 0, 0, 9}
    end

    test "ip_down carries the connection statistics" do
      env = [{"CONNECT_TIME", "3600"}, {"BYTES_SENT", "1000"}, {"BYTES_RCVD", "2000"}]
      assert {:ok, event} = Event.from_datagram(raw(:ip_down, @args, env))
      assert event.stats == %{connect_time: 3600, bytes_sent: 1000, bytes_received: 2000}
    end

    test "ipv6 events use the link-local addresses" do
      args = ["ppp0", "/dev/ttyUSB3", "115200", "fe80::1c2a:3bff:fe4c:5d6e", "fe80::2", "/s"]
      assert {:ok, event} = Event.from_datagram(raw(:ipv6_up, args, [{"LLREMOTE", "fe80::3"}]))
      assert event.ll_local == {0xFE80, 0, 0, 0, 0x1C2A, 0x3BFF, 0xFE4C, 0x5D6E}
      assert event.ll_remote == {0xFE80, 0, 0, 0, 0, 0, 0, 3}
      assert event.local == nil

      assert {:ok, event} = Event.from_datagram(raw(:ipv6_down, args, [{"IPLOCAL", "10.1.1.1"}]))
      assert event.local == {10, 1, 1, 1}
    end

    test "drops 0.0.0.0 and duplicate DNS servers" do
      env = [{"DNS1", "0.0.0.0"}, {"DNS2", "1.1.1.1"}]
      assert {:ok, %{dns: [{1, 1, 1, 1}]}} = Event.from_datagram(raw(:ip_up, @args, env))
      env = [{"DNS1", "1.1.1.1"}, {"DNS2", "1.1.1.1"}]
      assert {:ok, %{dns: [{1, 1, 1, 1}]}} = Event.from_datagram(raw(:ip_up, @args, env))
    end

    test "bad values are errors that name the variable" do
      cases = [
        {:ip_up, [{"IPLOCAL", "300.1.2.3"}], {:bad_address, ~s(IPLOCAL "300.1.2.3" is not an IPv4 address)}},
        {:ip_up, [{"IPREMOTE", "10.1"}], {:bad_address, ~s(IPREMOTE "10.1" is not an IPv4 address)}},
        {:ip_up, [{"IPLOCAL", "fe80::1"}], {:bad_address, ~s(IPLOCAL "fe80::1" is not an IPv4 address)}},
        {:ip_up, [{"DNS2", "dns.example"}], {:bad_address, ~s(DNS2 "dns.example" is not an IPv4 address)}},
        {:ip_up, [{"LLLOCAL", "10.0.0.1"}], {:bad_address, ~s(LLLOCAL "10.0.0.1" is not an IPv6 address)}},
        {:ip_up, [{"SPEED", "fast"}], {:bad_integer, ~s(SPEED "fast" is not a non-negative integer)}},
        {:ip_down, [{"BYTES_SENT", "-1"}], {:bad_integer, ~s(BYTES_SENT "-1" is not a non-negative integer)}},
        {:ipv6_up, [{"LLLOCAL", "10.0.0.2"}], {:bad_address, ~s(LLLOCAL "10.0.0.2" is not an IPv6 address)}}
      ]

      for {kind, env, expected} <- cases do
        assert Event.from_datagram(raw(kind, @args, env)) == {:error, expected}
      end
    end

    test "missing addresses and interface are errors" do
      assert {:error, {:missing, "IPLOCAL" <> _}} = Event.from_datagram(raw(:ip_up, ["ppp0"], []))
      assert {:error, {:missing, "LLLOCAL" <> _}} = Event.from_datagram(raw(:ipv6_up, ["ppp0"], []))
      assert {:error, {:missing, "IFNAME" <> _}} = Event.from_datagram(raw(:ip_up, [], []))
      assert {:error, {:bad_event, _}} = Event.from_datagram(%{kind: :ip_sideways, args: [], env: []})
      assert {:error, {:bad_event, _}} = Event.from_datagram(:nope)
    end
  end
end
