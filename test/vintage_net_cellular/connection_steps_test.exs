defmodule VintageNetCellular.ConnectionStepsTest do
  # The pure step modules of the connection manager, on real modem answers.
  use ExUnit.Case, async: true

  alias VintageNetCellular.AT
  alias VintageNetCellular.Connection.Backoff
  alias VintageNetCellular.Connection.ModemSelect
  alias VintageNetCellular.Connection.PDP
  alias VintageNetCellular.Connection.Registration
  alias VintageNetCellular.Connection.SIM

  doctest Backoff
  doctest SIM
  doctest PDP
  doctest Registration
  doctest VintageNetCellular.Connection.Log
  doctest ModemSelect
  doctest VintageNetCellular.ModemProfile.Commands

  defp parse!(line) do
    {:ok, {_kind, fields}} = AT.parse(line)
    fields
  end

  describe "SIM" do
    # Real answers to AT+CPIN? (after AT+CMEE=2 where it is text).
    @cpin_table [
      {"+CPIN: READY", :ready},
      {"+CPIN: SIM PIN", :pin_required},
      {"+CPIN: SIM PUK", :puk_required},
      {"+CPIN: NOT INSERTED", :absent},
      {"+CPIN: SIM NOT INSERTED", :absent},
      {"+CPIN: NOT READY", :busy},
      {"+CPIN: PH-NET PIN", {:modem_lock, :ph_net_pin}},
      {"+CPIN: SIM PIN2", :ready}
    ]

    test "the status of every +CPIN answer" do
      for {line, expected} <- @cpin_table do
        %{state: state} = parse!(line)
        assert SIM.status({:cpin, state}) == expected, line
      end
    end

    test "the status of +CME ERROR answers, numeric and verbose" do
      for {line, expected} <- [
            {"+CME ERROR: 10", :absent},
            {"+CME ERROR: SIM not inserted", :absent},
            {"+CME ERROR: 11", :pin_required},
            {"+CME ERROR: 12", :puk_required},
            {"+CME ERROR: 14", :busy},
            {"+CME ERROR: SIM busy", :busy}
          ] do
        %{code: code} = parse!(line)
        assert SIM.status({:cme_error, code}) == expected, line
      end

      assert {:error, message} = SIM.status({:cme_error, 13})
      assert message =~ "SIM failure"
    end

    test "a PIN is sent only when asked, and only once per SIM" do
      assert SIM.decide(:ready, "1234", false) == :ready
      assert SIM.decide(:ready, nil, true) == :ready
      assert SIM.decide(:pin_required, "1234", false) == {:unlock, "1234"}
      assert {:locked, why} = SIM.decide(:pin_required, "1234", true)
      assert why =~ "not be tried again"
      assert {:locked, why} = SIM.decide(:pin_required, nil, false)
      assert why =~ "no :sim_pin is configured"
      # Never a PIN to a PUK-locked SIM: that would only use up tries.
      assert {:locked, why} = SIM.decide(:puk_required, "1234", false)
      assert why =~ "PUK"
      refute why =~ "1234"
    end

    test "an absent or busy SIM is retried, not treated as locked" do
      assert {:absent, why} = SIM.decide(:absent, "1234", false)
      assert why =~ "No SIM"
      assert {:wait, _} = SIM.decide(:busy, nil, false)
    end

    test "which answers to AT+CPIN=<pin> mean a wrong PIN" do
      assert SIM.wrong_pin?({:error, {:cme_error, 16}})
      assert SIM.wrong_pin?({:error, {:cme_error, "Incorrect password"}})
      assert SIM.wrong_pin?({:error, :error})
      refute SIM.wrong_pin?({:ok, []})
      refute SIM.wrong_pin?({:error, :timeout})
    end
  end

  describe "PDP" do
    # EC25 answers as they come off the wire.
    @ec25_cgdcont [
      ~s(+CGDCONT: 1,"IPV4V6","ims","0.0.0.0,0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0),
      ~s(+CGDCONT: 2,"IPV4V6","SOS","0.0.0.0,0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,1),
      ~s(+CGDCONT: 3,"IP","iot.1nce.net","0.0.0.0",0,0,0,0)
    ]

    defp current(cgdcont_lines, cgauth_lines \\ []) do
      %{cgdcont: Enum.map(cgdcont_lines, &parse!/1), cgauth: Enum.map(cgauth_lines, &parse!/1)}
    end

    test "nothing is written when the context already matches (APN case ignored)" do
      current = current(@ec25_cgdcont, [~s(+CGAUTH: 3,0)])
      assert PDP.plan(current, %{apn: "IOT.1nce.NET", pdp_type: :ipv4, auth: :none}, cid: 3) == []
      assert PDP.describe(current, %{apn: "iot.1nce.net", pdp_type: :ipv4}, cid: 3) == nil
    end

    test "a different APN or type is written between CFUN=4 and CFUN=1" do
      current = current(@ec25_cgdcont)

      assert PDP.plan(current, %{apn: "internet", pdp_type: :ipv4, auth: :none}, cid: 1) ==
               ["AT+CFUN=4", ~s(AT+CGDCONT=1,"IP","internet"), "AT+CFUN=1"]

      assert PDP.plan(current, %{apn: "iot.1nce.net", pdp_type: :ipv4v6, auth: :none}, cid: 3) ==
               ["AT+CFUN=4", ~s(AT+CGDCONT=3,"IPV4V6","iot.1nce.net"), "AT+CFUN=1"]
    end

    test "a missing context is created" do
      assert PDP.plan(current([]), %{apn: "internet", pdp_type: :ipv4}, cid: 1) ==
               ["AT+CFUN=4", ~s(AT+CGDCONT=1,"IP","internet"), "AT+CFUN=1"]
    end

    test "authentication is compared by type and username, written by the profile's function" do
      provider = %{apn: "super", pdp_type: :ipv4, auth: :chap, username: "u", password: "p"}
      same = current([~s(+CGDCONT: 1,"IP","super","0.0.0.0",0,0)], [~s(+CGAUTH: 1,2,"u")])
      assert PDP.plan(same, provider, cid: 1) == []

      other_user = current([~s(+CGDCONT: 1,"IP","super","0.0.0.0",0,0)], [~s(+CGAUTH: 1,2,"v")])
      # SIMCom SIM7600 takes the password before the user.
      simcom = fn cid, auth, user, pass -> ~s(AT+CGAUTH=#{cid},#{auth},"#{pass}","#{user}") end

      assert PDP.plan(other_user, provider, cid: 1, cgauth: simcom) ==
               ["AT+CFUN=4", ~s(AT+CGAUTH=1,2,"p","u"), "AT+CFUN=1"]

      assert PDP.describe(other_user, provider, cid: 1) =~ "authentication"
    end

    test "stale authentication is removed when the provider has none" do
      current = current([~s(+CGDCONT: 1,"IP","internet","0.0.0.0",0,0)], [~s(+CGAUTH: 1,1,"old")])

      assert PDP.plan(current, %{apn: "internet", pdp_type: :ipv4, auth: :none}, cid: 1) ==
               ["AT+CFUN=4", "AT+CGAUTH=1,0", "AT+CFUN=1"]
    end

    test "a modem without AT+CGAUTH is written only when auth is wanted" do
      current = %{cgdcont: [parse!(~s(+CGDCONT: 1,"IP","internet"))], cgauth: :unsupported}
      assert PDP.plan(current, %{apn: "internet", pdp_type: :ipv4, auth: :none}, cid: 1) == []
      assert ["AT+CFUN=4", _auth, "AT+CFUN=1"] = PDP.plan(current, %{apn: "internet", auth: :pap, username: "u"})
    end
  end

  describe "Registration" do
    defp reg(lines) do
      Map.new(lines, fn line ->
        {:ok, {kind, fields}} = AT.parse(line)
        {kind, fields}
      end)
    end

    test "LTE registered at home from URCs" do
      stats = reg(["+CREG: 1", "+CEREG: 1,\"1A2B\",\"0C0D0E0\",7"])
      assert Registration.evaluate(stats, []) == {:registered, :home}
      assert Registration.summary(stats) == :registered_home
    end

    test "roaming is a registration only when allowed" do
      stats = reg(["+CEREG: 2,5,\"1A2B\",\"0C0D0E0\",7"])
      assert Registration.evaluate(stats, roaming_allowed?: true) == {:registered, :roaming}
      assert {:roaming_not_allowed, _} = Registration.evaluate(stats, roaming_allowed?: false)
    end

    test "denied with the reject cause, searching, SMS only" do
      assert {:denied, why} = Registration.evaluate(reg(["+CEREG: 3,3,\"FFFE\",\"FFFFFFF\",7,0,7"]), [])
      assert why =~ "cause 7"
      assert {:denied, "registration denied by the network"} = Registration.evaluate(reg(["+CGREG: 3"]), [])
      assert {:searching, _} = Registration.evaluate(reg(["+CREG: 0,2", "+CEREG: 0,2"]), [])
      assert {:not_registered, why} = Registration.evaluate(reg(["+CEREG: 0,6"]), [])
      assert why =~ "SMS only"
    end

    test "a circuit-switched registration alone is not enough when a packet domain is known" do
      stats = reg(["+CREG: 0,1", "+CGREG: 0,2"])
      assert {:searching, _} = Registration.evaluate(stats, [])
      # ...but counts on a modem with no packet domain to report.
      assert Registration.evaluate(reg(["+CREG: 0,1"]), []) == {:registered, :home}
    end

    test "nothing known yet" do
      assert {:not_registered, _} = Registration.evaluate(%{}, [])
      assert Registration.summary(%{}) == nil
    end
  end

  describe "profiles' connection commands" do
    alias VintageNetCellular.ModemProfile
    alias VintageNetCellular.ModemProfile.Commands

    test "every shipped profile answers every connection callback" do
      for profile <- ModemProfile.all() do
        assert "AT" <> _ = profile.iccid_command(), inspect(profile)
        assert profile.pdp_cid() in 1..99
        assert Enum.all?(profile.init_commands(), &String.starts_with?(&1, "AT"))
        # nil leaves the modem's own setting alone.
        assert profile.roaming_settings(nil) == []
        assert profile.radio_settings(nil) == []

        for {query, _expected, set} <- profile.radio_settings([:lte]) ++ profile.roaming_settings(false) do
          assert "AT" <> _ = query
          assert Enum.all?(List.wrap(set), &String.starts_with?(&1, "AT"))
        end
      end
    end

    test "vendor ICCID commands and the SIMCom CGAUTH order" do
      assert VintageNetCellular.Modem.QuectelEC25.iccid_command() == "AT+QCCID"
      assert VintageNetCellular.Modem.SIMCom7600.iccid_command() == "AT+CICCID"
      assert VintageNetCellular.Modem.TelitLE910.iccid_command() == "AT#CCID"
      assert VintageNetCellular.Modem.Generic.iccid_command() == "AT+CCID"

      assert VintageNetCellular.Modem.SIMCom7600.cgauth_command(1, 2, "user", "pass") == ~s(AT+CGAUTH=1,2,"pass","user")

      assert VintageNetCellular.Modem.QuectelEC25.cgauth_command(1, 2, "user", "pass") ==
               ~s(AT+CGAUTH=1,2,"user","pass")

      assert VintageNetCellular.Modem.SIMComA7600.cgauth_command(3, 0, nil, nil) == "AT+CGAUTH=3,0"
    end

    test "the ICCID each vendor command answers parses" do
      for line <- [
            "+QCCID: 89882280000012345678",
            "+ICCID: 89882280000012345678",
            "#CCID: 89882280000012345678",
            "+CCID: 89882280000012345678"
          ] do
        assert {:ok, {:iccid, %{iccid: "89882280000012345678"}}} = AT.parse(line), line
      end
    end

    test "radio technology settings per family" do
      assert [{_, ~s(+QCFG: "nwscanmode",1), _}] = Commands.quectel_lte_rat([:gsm])
      # EC25 has no Cat M1: nothing it can do, nothing is written.
      assert Commands.quectel_lte_rat([:lte_cat_m1]) == []

      assert [{_, ~s(+QCFG: "nwscanmode",0), _}, {_, ~s(+QCFG: "iotopmode",2), _}, {_, seq, _}] =
               Commands.quectel_iot_rat([:lte_cat_nb1, :gsm, :lte_cat_m1])

      assert seq == ~s(+QCFG: "nwscanseq",030102)
      assert [{"AT+CNMP?", "+CNMP: 38", "AT+CNMP=38"}] = Commands.simcom_cnmp([:lte_cat_m1])
      assert [{"AT+WS46?", "+WS46: 30", "AT+WS46=30"}] = Commands.telit_ws46([:gsm, :lte])
      assert [{"AT+URAT?", "+URAT: 7,8", _}] = Commands.ublox_urat([:lte_cat_m1, :lte_cat_nb1])
      assert [{_, expected, _}] = Commands.huawei_roaming(true)
      assert Commands.matches?([~s(^SYSCFGEX: "00",3FFFFFFF,1,2,7FFFFFFFFFFFFFFF)], expected)
      refute Commands.matches?([~s(^SYSCFGEX: "00",3FFFFFFF,0,2,7FFFFFFFFFFFFFFF)], expected)
    end
  end

  describe "ModemSelect" do
    @ec25 VintageNetCellular.Modem.QuectelEC25

    defp device(path, at, ppp, profile \\ @ec25) do
      %{
        usb_path: path,
        vendor_id: 0x2C7C,
        product_id: 0x0125,
        profile: profile,
        at_tty: at,
        ppp_tty: ppp,
        interfaces: [%{number: 2, ttys: [at]}, %{number: 3, ttys: [ppp]}]
      }
    end

    test "usb_path pins, modem: restricts, at_tty overrides" do
      scan = [device("1-1.3", "ttyUSB6", "ttyUSB7"), device("1-1.2", "ttyUSB2", "ttyUSB3")]
      assert [%{usb_path: "1-1.3"}] = ModemSelect.candidates(scan, %{modem: :auto, usb_path: "1-1.3"})

      assert [%{usb_path: "1-1.2", at_tty: "ttyUSB3", ppp_tty: "ttyUSB9"}] =
               ModemSelect.candidates(scan, %{modem: :auto, at_tty: "ttyUSB3", ppp_tty: "ttyUSB9"})

      # A UART modem: no USB device owns the tty.
      assert [%{usb_path: nil, at_tty: "ttyAMA1", profile: VintageNetCellular.Modem.Generic}] =
               ModemSelect.candidates(scan, %{modem: :auto, at_tty: "ttyAMA1"})

      unknown = device("1-1.4", "ttyACM0", "ttyACM2", nil)
      assert ModemSelect.candidates([unknown], %{modem: :auto}) == []
      assert [%{profile: @ec25}] = ModemSelect.candidates([unknown], %{modem: @ec25})
    end

    test "claims are exclusive per modem and per tty, and die with their process" do
      modem = device("9-9.1", "ttyUSB40", "ttyUSB41")
      assert :ok = ModemSelect.claim(modem, "ppp0")
      assert ModemSelect.claimed_by({:usb_path, "9-9.1"}) == "ppp0"
      # Claiming again from the same process is fine.
      assert :ok = ModemSelect.claim(modem, "ppp0")

      test_pid = self()

      other =
        spawn(fn ->
          send(test_pid, {:claim, ModemSelect.claim(modem, "ppp1")})
          # Another modem on a tty we hold: refused, and nothing is half-claimed.
          send(test_pid, {:claim2, ModemSelect.claim(device("9-9.2", "ttyUSB41", "ttyUSB42"), "ppp1")})
          send(test_pid, {:free, ModemSelect.first_free([modem, device("9-9.3", "ttyUSB50", "ttyUSB51")])})
          receive do: (:stop -> :ok)
        end)

      assert_receive {:claim, {:error, {:claimed_by, "ppp0"}}}
      assert_receive {:claim2, {:error, {:claimed_by, "ppp0"}}}
      assert_receive {:free, %{usb_path: "9-9.3"}}
      assert ModemSelect.claimed_by({:usb_path, "9-9.2"}) == nil
      assert ModemSelect.claimed_by({:tty, "ttyUSB42"}) == nil

      ModemSelect.release_all()
      assert ModemSelect.claimed_by({:tty, "ttyUSB40"}) == nil
      send(other, :stop)
    end

    test "a re-enumerated modem (new ttys) is no longer present" do
      modem = %{usb_path: "1-1.2", at_tty: "ttyUSB2", ppp_tty: "ttyUSB3", profile: @ec25}
      assert ModemSelect.still_present?(modem, [device("1-1.2", "ttyUSB2", "ttyUSB3")], %{modem: :auto})
      refute ModemSelect.still_present?(modem, [device("1-1.2", "ttyUSB6", "ttyUSB7")], %{modem: :auto})
      refute ModemSelect.still_present?(modem, [], %{modem: :auto})
    end

    test "why nothing could be used, in words" do
      assert ModemSelect.why_none([], [], %{}) =~ "no cellular modem found"

      assert ModemSelect.why_none([device("1-1.4", nil, nil, nil)], [], %{}) =~
               "no supported modem with an AT port found (found: 1-1.4 2c7c:0125)"
    end
  end
end
