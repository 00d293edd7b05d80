defmodule VintageNetCellular.ConnectionCompoundTest do
  # Compound command lines: building them, and reading modems' answers to them.
  use ExUnit.Case, async: true

  alias VintageNetCellular.Connection.Compound

  doctest Compound

  describe "line/1" do
    test "joins commands as sent alone, basic and extended, keeping quoted text as it is" do
      assert Compound.line(["ATE0", "AT+CMEE=2", ~s(AT+QURCCFG="urcport","usbat")]) ==
               ~s(ATE0;+CMEE=2;+QURCCFG="urcport","usbat")

      assert Compound.line(["AT+CPIN?", "AT+CICCID", "AT+CIMI"]) == "AT+CPIN?;+CICCID;+CIMI"
      assert Compound.line(["at+creg?", "AT+CGREG?"]) == "AT+creg?;+CGREG?"
      assert Compound.line(["AT#CCID", "AT^SYSINFOEX"]) == "AT#CCID;^SYSINFOEX"
      assert Compound.line([~s(AT+CGDCONT=1,"IP","a;b")]) == ~s(AT+CGDCONT=1,"IP","a;b")
    end

    test "a dial or a reset may end a line, but nothing may follow it" do
      assert Compound.line(["AT+CGATT?", "ATD*99***1#"]) == "AT+CGATT?;D*99***1#"

      for first <- ["ATD*99#", "ATZ", "AT&F", "atdt123"] do
        error = assert_raise ArgumentError, fn -> Compound.line([first, "AT+CSQ"]) end
        assert error.message =~ inspect(first)
        assert error.message =~ "nothing may follow"
      end
    end

    test "what isn't an AT command is refused, naming it" do
      for {commands, bad, says} <- [
            {["AT+CSQ", "+CREG?"], "+CREG?", "must start with AT"},
            {["A/"], "A/", "must start with AT"},
            {["AT+CSQ", "AT"], "AT", "bare AT"},
            {[""], "", "must start with AT"}
          ] do
        error = assert_raise ArgumentError, fn -> Compound.line(commands) end
        assert error.message =~ inspect(bad)
        assert error.message =~ says
      end

      assert_raise ArgumentError, ~r/at least one command/, fn -> Compound.line([]) end
    end
  end

  describe "sim_read/1" do
    # Answers to AT+CPIN?;<iccid>;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH? as the line engine
    # returns them (information lines only), made of the answer lines the
    # vendors' modems give to each command alone (see at_test.exs).
    @answers [
      {"Quectel EC25",
       [
         "+CPIN: READY",
         "+QCCID: 8901260852290847433F",
         "310260859084743",
         ~s(+CGDCONT: 1,"IPV4V6","hologram","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0),
         ~s(+CGDCONT: 2,"IPV4V6","ims","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0),
         "+CGACT: 1,1",
         "+CGACT: 2,0",
         ~s(+CGAUTH: 1,0,""),
         ~s(+CGAUTH: 2,0,"")
       ],
       %{
         cpin: :ready,
         iccid: "8901260852290847433",
         imsi: "310260859084743",
         apns: [{1, "hologram"}, {2, "ims"}],
         active: [1],
         auth: [{1, :none}, {2, :none}]
       }},
      {"SIMCom SIM7600",
       [
         "+CPIN: READY",
         "+ICCID: 89014103211118510720",
         "310410118510720",
         ~s(+CGDCONT: 1,"IP","iot.1nce.net","0.0.0.0",0,0,0,0),
         ~s(+CGAUTH: 1,1,"user1")
       ],
       %{
         cpin: :ready,
         iccid: "89014103211118510720",
         imsi: "310410118510720",
         apns: [{1, "iot.1nce.net"}],
         auth: [{1, :pap}]
       }},
      {"SIMCom SIM7080 (bare ICCID digits, no CGAUTH entries)",
       [
         "+CPIN: READY",
         "89882280000012345678",
         "901405100012345",
         ~s(+CGDCONT: 1,"IP",,,0,0)
       ], %{cpin: :ready, iccid: "89882280000012345678", imsi: "901405100012345", apns: [{1, nil}], auth: []}},
      {"Telit LE910 (#CCID)", ["+CPIN: READY", "#CCID: 89390100001234567890", "222013000000001"],
       %{cpin: :ready, iccid: "89390100001234567890", imsi: "222013000000001", apns: [], auth: []}},
      {"a SIM that still wants its PIN (ICCID readable, IMSI not given)",
       ["+CPIN: SIM PIN", "+QCCID: 89014103211118510720"],
       %{cpin: :sim_pin, iccid: "89014103211118510720", imsi: nil, apns: [], auth: []}}
    ]

    test "picks the SIM state, the ICCID, the IMSI, the contexts and their authentication out of each answer" do
      for {who, lines, expected} <- @answers do
        assert {:ok, read} = Compound.sim_read(lines), who
        assert read.cpin == expected.cpin, who
        assert read.iccid == expected.iccid, who
        assert read.imsi == expected.imsi, who
        assert Enum.map(read.cgdcont, &{&1.cid, &1.apn}) == expected.apns, who
        assert Enum.map(read.cgauth, &{&1.cid, &1.auth}) == expected.auth, who
        assert read.active_cids == Map.get(expected, :active, []), who
      end
    end

    test "the order of the commands' answers doesn't matter" do
      for {who, lines, _expected} <- @answers do
        {:ok, read} = Compound.sim_read(lines)
        {:ok, reversed} = Compound.sim_read(Enum.reverse(lines))
        # The contexts keep the modem's order, whatever it is.
        assert %{reversed | cgdcont: Enum.reverse(reversed.cgdcont), cgauth: Enum.reverse(reversed.cgauth)} == read,
               who
      end
    end

    test "the SIM line reads which contexts are active, before AT+CGAUTH? (the one a modem may not know)" do
      assert Compound.line(Compound.sim_commands("AT+QCCID")) == "AT+CPIN?;+QCCID;+CIMI;+CGDCONT?;+CGACT?;+CGAUTH?"
      assert Compound.active_cids(["+CGACT: 1,0", "+CGACT: 3,1", "+CGACT: 0,1", ~s(+CGDCONT: 1,"IP","a")]) == [3]
    end

    test "an answer without its +CPIN line is not understood" do
      lines = ["+QCCID: 89014103211118510720", "310410118510720"]
      assert {:error, message} = Compound.sim_read(lines)
      assert message =~ "no +CPIN line"
      assert Compound.sim_read([]) == {:error, "no +CPIN line in []"}
    end
  end

  describe "registration/1" do
    test "each domain from the answer to the registration line, nil for one that gave nothing" do
      lines = [
        ~s(+CREG: 2,1,"4A02","09834B47",7),
        ~s(+CGREG: 2,1,"8BE3","00002B5D",3),
        ~s(+CEREG: 2,1,"1F00","0079D903",7)
      ]

      reg = Compound.registration(lines)
      assert reg.creg.stat == :registered_home
      assert reg.cgreg.ci == 0x2B5D
      assert reg.cereg.tac == 0x1F00

      assert %{creg: %{stat: :searching}, cgreg: nil, cereg: %{stat: :denied, reject_cause: 15}} =
               Compound.registration(["+CREG: 2,2", ~s(+CEREG: 3,3,"FFFE","FFFFFFF",7,0,15)])

      assert Compound.registration([]) == %{creg: nil, cgreg: nil, cereg: nil}
    end

    test "the registration line turns the URCs on before it reads" do
      line = Compound.line(Compound.registration_commands())
      assert line == "AT+CREG=2;+CGREG=2;+CEREG=2;+CREG?;+CGREG?;+CEREG?"
    end
  end

  describe "iccid/1 and imsi/1" do
    test "an ICCID and an IMSI can't be taken for each other" do
      lines = ["89014103211118510720", "310410118510720"]
      assert Compound.iccid(lines) == "89014103211118510720"
      assert Compound.imsi(lines) == "310410118510720"
      assert Compound.iccid(["310410118510720"]) == nil
      assert Compound.imsi(["89014103211118510720", "+CPIN: READY"]) == nil
    end
  end
end
