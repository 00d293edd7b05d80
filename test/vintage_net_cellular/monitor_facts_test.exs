defmodule VintageNetCellular.MonitorFactsTest do
  # Real modem responses -> the monitor's properties.
  #
  # Every row goes through the real parser (VintageNetCellular.AT.parse/1),
  # the real signal conversions and the real operator table, so these tests
  # check the whole path from the bytes a modem sends to what a user reads.
  use ExUnit.Case, async: true

  alias VintageNetCellular.AT
  alias VintageNetCellular.Monitor.Facts
  alias VintageNetCellular.Monitor.Identity
  alias VintageNetCellular.Monitor.Radio
  alias VintageNetCellular.Monitor.Schedule
  alias VintageNetCellular.Monitor.SignalRules

  doctest VintageNetCellular.Monitor.Facts
  doctest VintageNetCellular.Monitor.Identity
  doctest VintageNetCellular.Monitor.Radio
  doctest VintageNetCellular.Monitor.Schedule
  doctest VintageNetCellular.Monitor.SignalRules

  # Lines as the monitor of the modem that sends them sees them: URCs of
  # Quectel's own (+QIND csq) in their 27.007 form (translate_urc/1), the
  # vendor reports (+QCSQ, +QNWINFO, +CPSI) as the neutral facts their
  # family's profile makes of them (report_facts/1); 27.007 lines pass
  # through unchanged.
  defp facts(lines, start \\ Facts.new()) do
    Enum.reduce(lines, start, fn line, facts ->
      {:ok, parsed} = AT.parse(line)
      parsed = VintageNetCellular.Modem.QuectelEC25.translate_urc(parsed)
      Facts.observe_all(facts, neutral(parsed))
    end)
  end

  defp neutral(parsed) do
    VintageNetCellular.Modem.Quectel.report_facts(parsed) || VintageNetCellular.Modem.SIMCom.report_facts(parsed) ||
      [parsed]
  end

  defp props(lines), do: lines |> facts() |> Facts.properties()

  @network_keys ~w(roaming mcc mnc provider network access_technology radio lac tac cid band channel)

  # {what, lines (as the modem sent them, in order), expected properties,
  #  keys that must be absent}
  @rows [
    {"Quectel EC25 on AT&T LTE (CEREG=2 URC, COPS numeric + long, QNWINFO, QCSQ, CSQ)",
     [
       ~s(+CREG: 1,"1A2B","01A2D301",7),
       ~s(+CEREG: 1,"1A2B","01A2D301",7),
       ~s(+COPS: 0,2,"310410",7),
       ~s(+COPS: 0,0,"AT&T",7),
       ~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110),
       ~s(+QCSQ: "LTE",-52,-81,195,-10),
       "+CSQ: 21,99"
     ],
     %{
       "registration" => :registered_home,
       "roaming" => false,
       "mcc" => "310",
       "mnc" => "410",
       "provider" => "AT&T",
       "network" => "AT&T",
       "access_technology" => "FDD LTE",
       "radio" => :lte,
       "lac" => 0x1A2B,
       "tac" => 0x1A2B,
       "cid" => 0x01A2D301,
       "band" => "LTE BAND 12",
       "channel" => 5110,
       "signal_asu" => 21,
       "signal_dbm" => -71,
       # RSRP -81 dBm reaches Android's top threshold (-85)
       "signal_4bars" => 4,
       "signal_rsrp" => -81,
       "signal_rsrq" => -10,
       "signal_sinr" => 19
     }, []},
    {"SIMCom SIM7600 on T-Mobile (CPSI in tenths, CSQ unknown -> LTE RSSI from CPSI)",
     [
       ~s(+CEREG: 2,1,"2C15","01A2D302",7),
       ~s(+COPS: 0,2,"310260",7),
       ~s(+COPS: 0,0,"T-Mobile",7),
       "+CPSI: LTE,Online,310-260,0x2C15,27447554,258,EUTRAN-BAND4,2300,5,5,-92,-1012,-718,14",
       "+CSQ: 99,99"
     ],
     %{
       "registration" => :registered_home,
       "mcc" => "310",
       "mnc" => "260",
       "provider" => "T-Mobile",
       "network" => "T-Mobile",
       "access_technology" => "LTE",
       "radio" => :lte,
       "tac" => 0x2C15,
       # CEREG's CI wins over CPSI's (same cell here, different digits to tell them apart)
       "cid" => 0x01A2D302,
       "band" => "EUTRAN-BAND4",
       "channel" => 2300,
       # LTE RSSI -71.8 -> -72 dBm, through Signal.from_lte_rssi/1
       "signal_dbm" => -72,
       "signal_asu" => 20,
       # RSRP -101 dBm: 2 bars (-105 <= rsrp < -95)
       "signal_4bars" => 2,
       "signal_rsrp" => -101,
       "signal_rsrq" => -9,
       "signal_sinr" => 14,
       # No CREG/CGREG LAC on LTE: lac carries the TAC for dashboards that read lac
       "lac" => 0x2C15
     }, []},
    {"SIMCom SIM7080 on Cat-M1, roaming (CPSI whole units)",
     [
       ~s(+CEREG: 5,"0A1B","0C0D0E0F",7),
       ~s(+COPS: 0,2,"23415",7),
       "+CPSI: LTE CAT-M1,Online,234-15,0x0A1B,202182159,311,EUTRAN-BAND20,6300,3,3,-11,-88,-61,15",
       "+CSQ: 24,99"
     ],
     %{
       "registration" => :registered_roaming,
       "roaming" => true,
       "mcc" => "234",
       "mnc" => "15",
       "provider" => "Vodafone UK",
       "network" => nil,
       "access_technology" => "LTE CAT-M1",
       "radio" => :lte_cat_m1,
       "signal_asu" => 24,
       "signal_dbm" => -65,
       "signal_4bars" => 3,
       "signal_rsrp" => -88,
       "signal_rsrq" => -11,
       "signal_sinr" => 15
     }, []},
    {"Quectel BG96 without QNWINFO: AcT 8 in CEREG is Cat-M1",
     [~s(+CEREG: 1,"1A2B","01A2D301",8), ~s(+COPS: 0,2,"310410",8)],
     %{"radio" => :lte_cat_m1, "access_technology" => "LTE Cat-M1", "mcc" => "310", "provider" => "AT&T"},
     ["band", "channel"]},
    {"Quectel BG95 NB-IoT (QNWINFO text names the radio)",
     [~s(+CEREG: 1,"1A2B","01A2D301",9), ~s(+QNWINFO: "NBIoT","310410","LTE BAND 12",5110)],
     %{"radio" => :lte_cat_nb1, "access_technology" => "NBIoT", "mcc" => "310", "mnc" => "410"}, []},
    {"Generic 3GPP modem on UMTS (CREG/CGREG n=2, CSQ, CESQ without LTE values)",
     [
       ~s(+CREG: 2,1,"8BE3","00002BAF",2),
       ~s(+CGREG: 2,1,"8BE3","00002BAF",2),
       ~s(+COPS: 0,2,"26201",2),
       ~s(+COPS: 0,0,"Telekom.de",2),
       "+CSQ: 14,99",
       "+CESQ: 99,99,40,30,255,255"
     ],
     %{
       "registration" => :registered_home,
       "roaming" => false,
       "mcc" => "262",
       "mnc" => "01",
       "provider" => "Telekom",
       "network" => "Telekom.de",
       "access_technology" => "UTRAN",
       "radio" => :umts,
       "lac" => 0x8BE3,
       "cid" => 0x2BAF,
       "signal_asu" => 14,
       "signal_dbm" => -85,
       "signal_4bars" => 2,
       "signal_rsrp" => nil,
       "signal_rsrq" => nil,
       "signal_sinr" => nil
     }, ["tac", "band", "channel"]},
    {"Generic LTE modem: RSRP/RSRQ from CESQ (no SINR), bars from RSRP",
     [~s(+CEREG: 1,"1F00","079D903",7), "+CSQ: 18,99", "+CESQ: 99,99,255,255,22,45"],
     %{
       "radio" => :lte,
       "access_technology" => "E-UTRAN",
       "signal_asu" => 18,
       "signal_dbm" => -77,
       "signal_rsrp" => -96,
       "signal_rsrq" => -9,
       "signal_sinr" => nil,
       "signal_4bars" => 2
     }, ["mcc", "mnc", "provider", "network"]},
    {"QCSQ wins over CESQ when both report",
     [~s(+CEREG: 1,"1F00","079D903",7), "+CESQ: 99,99,255,255,22,45", ~s(+QCSQ: "LTE",-69,-102,150,-12)],
     %{"signal_rsrp" => -102, "signal_rsrq" => -12, "signal_sinr" => 10}, []},
    {"Leading-zero MNCs stay strings: 310/030 (AT&T) is not 310/03 (no row)",
     [~s(+CEREG: 1,"1F00","079D903",7), ~s(+COPS: 0,2,"310030",7)],
     %{"mcc" => "310", "mnc" => "030", "provider" => "AT&T"}, []},
    {"Test network 001/01: numeric kept, not in the table -> provider nil, network nil",
     [~s(+CEREG: 1,"0001","00000100",7), ~s(+COPS: 0,2,"00101",7)],
     %{"mcc" => "001", "mnc" => "01", "provider" => nil, "network" => nil}, []},
    {"COPS long-name read answered numerically (name unknown to the modem)",
     [~s(+CEREG: 1,"1F00","079D903",7), ~s(+COPS: 0,0,"310410",7)],
     %{"mcc" => "310", "mnc" => "410", "provider" => "AT&T", "network" => nil}, []},
    {"Quectel pushed signal URC (+QIND csq)", [~s(+QIND: "csq",20,99)],
     %{"signal_asu" => 20, "signal_dbm" => -73, "signal_4bars" => 4}, ["registration" | @network_keys]},
    {"No signal: CSQ 99 publishes nil, never 99/-113", ["+CSQ: 99,99"],
     %{"signal_asu" => nil, "signal_dbm" => nil, "signal_4bars" => nil, "signal_rsrp" => nil}, []},
    {"Searching: registration only, no operator or cell keys", [~s(+CEREG: 2), ~s(+CREG: 0,2)],
     %{"registration" => :searching}, @network_keys},
    {"Denied with a reject cause that leaves the SIM valid (#15)", [~s(+CEREG: 3,"1F00","079D903",7,0,15)],
     %{"registration" => :denied, "sim_rej_info" => :available}, @network_keys},
    {"EPS services not allowed (#7): SIM invalid for PS", [~s(+CEREG: 3,3,,,,0,7)],
     %{"registration" => :denied, "sim_rej_info" => :ps_invalid}, @network_keys},
    {"Illegal UE (#3): SIM invalid for CS and PS", [~s(+CEREG: 3,3,,,,0,3)], %{"sim_rej_info" => :cs_ps_invalid}, []},
    {"IMSI unknown in HLR (#2) on CS, #7 on EPS: both", [~s(+CREG: 3,3,,,,0,2), ~s(+CEREG: 3,3,,,,0,7)],
     %{"sim_rej_info" => :cs_ps_invalid}, []},
    {"IMSI unknown in HLR (#2) alone: SIM invalid for CS", [~s(+CREG: 3,3,,,,0,2)], %{"sim_rej_info" => :cs_invalid},
     []},
    {"A manufacturer-specific cause (cause_type 1) says nothing about the SIM", [~s(+CEREG: 3,3,,,,1,7)],
     %{"registration" => :denied}, ["sim_rej_info"]},
    {"Denied without a cause (n=2): unknown", [~s(+CEREG: 3)], %{"registration" => :denied}, ["sim_rej_info"]},
    {"Registered: the SIM is available", [~s(+CEREG: 1,"1F00","079D903",7)], %{"sim_rej_info" => :available}, []},
    {"SIM removed: not available", [~s(+CEREG: 1,"1F00","079D903",7), "+CPIN: NOT INSERTED"],
     %{"sim_rej_info" => :not_available}, ["registration"]},
    {"SIM back and registered again: available",
     [~s(+CEREG: 1,"1F00","079D903",7), "+CPIN: NOT INSERTED", "+CPIN: READY", ~s(+CEREG: 1,"1F00","079D903",7)],
     %{"sim_rej_info" => :available}, []},
    {"SIM back (READY), not registered yet: unknown", ["+CPIN: NOT INSERTED", "+CPIN: READY", "+CEREG: 2"],
     %{"registration" => :searching}, ["sim_rej_info"]},
    {"A later registration clears an old reject", [~s(+CEREG: 3,3,,,,0,7), ~s(+CEREG: 1,"1F00","079D903",7)],
     %{"sim_rej_info" => :available}, []},
    {"LTE only (CEREG, no CREG/CGREG): lac mirrors the TAC",
     [~s(+CEREG: 1,"1F00","079D903",7), ~s(+COPS: 0,2,"310410",7)],
     %{"tac" => 0x1F00, "lac" => 0x1F00, "cid" => 0x079D903}, []},
    {"LTE with a CS registration in another area: the real LAC wins over the TAC",
     [~s(+CREG: 1,"8BE3","00002BAF",7), ~s(+CEREG: 1,"1F00","079D903",7)],
     %{"tac" => 0x1F00, "lac" => 0x8BE3, "cid" => 0x079D903}, []},
    {"No Service from QNWINFO: no band or channel", [~s(+CEREG: 1,"1F00","079D903",7), "+QNWINFO: No Service"],
     %{"radio" => :lte, "cid" => 0x079D903}, ["band", "channel"]},
    {"Network time from +CTZE (local time, China UTC+8): network_datetime is UTC",
     [~s(+CTZE: "+32",0,"2016/04/22,09:07:38")],
     %{"network_datetime" => ~N[2016-04-22 01:07:38], "utc_offset" => 28_800, "std_offset" => 0}, []},
    {"+CTZE in US Eastern daylight time: the zone includes 1 h of DST", [~s(+CTZE: "-16",1,"2024/07/04,12:00:05")],
     %{"network_datetime" => ~N[2024-07-04 16:00:05], "utc_offset" => -18_000, "std_offset" => 3600}, []},
    {"+CTZE across midnight, half-hour zone (India UTC+5:30)", [~s(+CTZE: "+22",0,"2024/01/01,03:00:00")],
     %{"network_datetime" => ~N[2023-12-31 21:30:00], "utc_offset" => 19_800, "std_offset" => 0}, []},
    {"Quectel +QLTS is UTC already", [~s(+QLTS: "2020/03/13,13:21:36-16,1")],
     %{"network_datetime" => ~N[2020-03-13 13:21:36], "utc_offset" => -18_000, "std_offset" => 3600}, []},
    {"+QLTS with no network time yet publishes nothing", [~s(+QLTS: "")], %{},
     ["network_datetime", "utc_offset", "std_offset"]},
    {"+CTZV alone: the whole offset, DST part unknown, no date", [~s(+CTZV: "-20")],
     %{"utc_offset" => -18_000, "std_offset" => nil}, ["network_datetime"]},
    {"+CTZV with the same zone keeps the DST split and the last date",
     [~s(+CTZE: "-16",1,"2024/07/04,12:00:05"), ~s(+CTZV: "-16")],
     %{"network_datetime" => ~N[2024-07-04 16:00:05], "utc_offset" => -18_000, "std_offset" => 3600}, []},
    {"+CTZV with a new zone: DST unknown, last date kept", [~s(+CTZE: "-16",1,"2024/07/04,12:00:05"), ~s(+CTZV: "-20")],
     %{"network_datetime" => ~N[2024-07-04 16:00:05], "utc_offset" => -18_000, "std_offset" => nil}, []},
    {"A day that does not exist gives no network_datetime", [~s(+CTZE: "+04",0,"2023/02/30,10:00:00")],
     %{"utc_offset" => 3600, "std_offset" => 0}, ["network_datetime"]},
    {"Network time outlives a SIM removal",
     [~s(+CEREG: 1,"1F00","079D903",7), ~s(+CTZE: "+04",0,"2023/02/28,10:00:00"), "+CPIN: NOT READY"],
     %{"network_datetime" => ~N[2023-02-28 09:00:00], "utc_offset" => 3600}, ["registration"]},
    {"Nothing observed yet", [], %{}, Facts.owned_keys()}
  ]

  for {{what, lines, expected, absent}, i} <- Enum.with_index(@rows) do
    @tag row: i
    test "#{i}: #{what}" do
      props = props(unquote(lines))

      for {key, value} <- unquote(Macro.escape(expected)) do
        assert Map.fetch(props, key) == {:ok, value},
               "#{key}: expected #{inspect(value)}, got #{inspect(Map.fetch(props, key))} in #{inspect(props)}"
      end

      for key <- unquote(absent) do
        refute Map.has_key?(props, key), "#{key} should be absent, got #{inspect(props[key])}"
      end

      assert props |> Map.keys() |> Enum.all?(&(&1 in Facts.owned_keys()))
    end
  end

  describe "types of every key" do
    test "registered LTE on a Quectel modem: each key has its documented type" do
      props =
        [~s(+CEREG: 1,"1A2B","01A2D301",7), ~s(+COPS: 0,2,"310410",7), ~s(+COPS: 0,0,"AT&T",7)]
        |> Kernel.++([~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110), ~s(+QCSQ: "LTE",-52,-81,195,-10)])
        |> Kernel.++(["+CSQ: 21,99", ~s(+CREG: 1,"1A2B","01A2D301",7)])
        |> Kernel.++([~s(+CTZE: "-16",1,"2024/07/04,12:00:05")])
        |> facts()
        |> Facts.put_identity("manufacturer", "Quectel")
        |> Facts.put_identity("model", "EC25")
        |> Facts.put_identity("revision", "EC25EFAR06A06M4G")
        |> Facts.put_identity("imei", "867962041234567")
        |> Facts.properties()

      assert Enum.sort(Map.keys(props)) == Enum.sort(Facts.owned_keys())

      for key <- ~w(manufacturer model revision imei mcc mnc provider network access_technology band),
          do: assert(is_binary(props[key]), key)

      for key <- ~w(lac tac cid channel signal_asu signal_dbm signal_4bars signal_rsrp signal_rsrq signal_sinr),
          do: assert(is_integer(props[key]), key)

      for key <- ~w(utc_offset std_offset), do: assert(is_integer(props[key]), key)
      assert props["sim_rej_info"] in [:not_available, :available, :cs_invalid, :ps_invalid, :cs_ps_invalid]
      assert %NaiveDateTime{} = props["network_datetime"]

      assert is_boolean(props["roaming"])
      assert props["radio"] in [:gsm, :umts, :lte, :lte_cat_m1, :lte_cat_nb1, :nr5g]
      assert is_atom(props["registration"])
      assert props["signal_4bars"] in 0..4
    end
  end

  describe "changes" do
    test "deregistration removes operator and cell keys but keeps signal" do
      registered = facts([~s(+CEREG: 1,"1A2B","01A2D301",7), ~s(+COPS: 0,2,"310410",7), "+CSQ: 20,99"])

      assert Facts.properties(registered)["mcc"] == "310"

      props = Facts.properties(facts(["+CEREG: 2"], registered))
      assert props["registration"] == :searching
      for key <- @network_keys, do: refute(Map.has_key?(props, key), key)
      assert props["signal_asu"] == 20

      # Re-registration does not bring back the old operator: it must be read again.
      props = Facts.properties(facts([~s(+CEREG: 1,"1A2B","01A2D301",7)], facts(["+CEREG: 2"], registered)))
      assert props["registration"] == :registered_home
      refute Map.has_key?(props, "mcc")
      assert props["cid"] == 0x01A2D301
    end

    test "SIM removal drops registration, operator and cell; SIM-less keys stay" do
      registered =
        [~s(+CEREG: 1,"1A2B","01A2D301",7), ~s(+COPS: 0,2,"310410",7), "+CSQ: 20,99"]
        |> facts()
        |> Facts.put_identity("imei", "867962041234567")

      for state <- ["NOT READY", "NOT INSERTED", "SIM REMOVED"] do
        props = Facts.properties(facts(["+CPIN: #{state}"], registered))
        refute Map.has_key?(props, "registration"), state
        for key <- @network_keys, do: refute(Map.has_key?(props, key), "#{state} #{key}")
        assert props["imei"] == "867962041234567"
        assert props["signal_asu"] == 20
      end
    end

    test "an operator change replaces MCC/MNC/provider and forgets the old name" do
      att = facts([~s(+CEREG: 1,"1A2B","01A2D301",7), ~s(+COPS: 0,2,"310410",7), ~s(+COPS: 0,0,"AT&T",7)])
      assert Facts.properties(att)["network"] == "AT&T"

      tmo = facts([~s(+CEREG: 1,"2C15","01A2D999",7), ~s(+COPS: 0,2,"310260",7)], att)
      props = Facts.properties(tmo)
      assert {props["mcc"], props["mnc"], props["provider"], props["network"]} == {"310", "260", "T-Mobile", nil}

      props = Facts.properties(facts([~s(+COPS: 0,0,"T-Mobile",7)], tmo))
      assert props["network"] == "T-Mobile"
    end

    test "the vendor report naming another PLMN marks the operator stale" do
      att = facts([~s(+CEREG: 1,"1A2B","01A2D301",7), ~s(+COPS: 0,2,"310410",7)])
      refute Facts.operator_stale?(facts([~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110)], att))
      assert Facts.operator_stale?(facts([~s(+QNWINFO: "FDD LTE","310260","LTE BAND 4",2300)], att))
    end

    test "a registered URC after SIM removal brings registration back" do
      gone = facts([~s(+CEREG: 1,"1A2B","01A2D301",7), "+CPIN: NOT READY"])
      refute Facts.registered?(gone)
      back = facts([~s(+CEREG: 1,"1A2B","01A2D301",7)], gone)
      assert Facts.properties(back)["registration"] == :registered_home
    end

    test "a failed source is forgotten" do
      f = facts([~s(+CEREG: 1,"1A2B","01A2D301",7), ~s(+QCSQ: "LTE",-52,-81,195,-10), "+CSQ: 21,99"])
      assert Facts.properties(f)["signal_rsrp"] == -81
      f = Facts.forget(f, :vendor_lte)
      assert Facts.properties(f)["signal_rsrp"] == nil
      assert Facts.properties(f)["signal_asu"] == 21
    end

    test "healthy? needs registration and a signal" do
      refute Facts.healthy?(facts(["+CSQ: 20,99"]))
      refute Facts.healthy?(facts([~s(+CEREG: 1,"1A2B","01A2D301",7), "+CSQ: 99,99"]))
      assert Facts.healthy?(facts([~s(+CEREG: 1,"1A2B","01A2D301",7), "+CSQ: 20,99"]))
    end

    test "lines of other kinds change nothing" do
      start = facts(["+CSQ: 20,99"])
      assert facts(["+CME ERROR: 10", ~s(+CGDCONT: 1,"IP","internet"), "+QIND: SMS DONE"], start) == start
    end
  end

  describe "identity answers" do
    # {key, information lines of the OK answer, expected}
    @identity [
      {"manufacturer", ["Quectel"], {:ok, "Quectel"}},
      {"manufacturer", ["SIMCOM INCORPORATED"], {:ok, "SIMCOM INCORPORATED"}},
      {"manufacturer", [~s(+CGMI: "u-blox")], {:ok, "u-blox"}},
      {"manufacturer", ["Telit"], {:ok, "Telit"}},
      {"model", ["EC25"], {:ok, "EC25"}},
      {"model", ["SIMCOM_SIM7600G-H"], {:ok, "SIMCOM_SIM7600G-H"}},
      {"model", ["+CGMM: A7672E-FASE"], {:ok, "A7672E-FASE"}},
      {"model", ["LE910C4-NF"], {:ok, "LE910C4-NF"}},
      {"revision", ["EC25EFAR06A06M4G"], {:ok, "EC25EFAR06A06M4G"}},
      {"revision", ["+CGMR: LE20B04SIM7600M22"], {:ok, "LE20B04SIM7600M22"}},
      {"revision", ["Revision: 1951B08SIM7080"], {:ok, "1951B08SIM7080"}},
      {"revision", ["BG96MAR02A07M1G"], {:ok, "BG96MAR02A07M1G"}},
      {"imei", ["867962041234567"], {:ok, "867962041234567"}},
      {"imei", [~s(+CGSN: "867962041234567")], {:ok, "867962041234567"}},
      {"imei", ["+CGSN: 861234050123456"], {:ok, "861234050123456"}},
      {"imei", [], :error},
      {"imei", ["86796204123456X"], :error},
      {"model", [""], :error}
    ]

    for {{key, lines, expected}, i} <- Enum.with_index(@identity) do
      test "#{i}: #{key} from #{inspect(lines)}" do
        case unquote(Macro.escape(expected)) do
          {:ok, value} -> assert Identity.parse(unquote(key), unquote(lines)) == {:ok, value}
          :error -> assert {:error, _why} = Identity.parse(unquote(key), unquote(lines))
        end
      end
    end

    test "errors name the command" do
      assert {:error, why} = Identity.parse("imei", ["garbage"])
      assert why =~ "AT+CGSN"
    end
  end

  describe "radio text" do
    @texts [
      {"FDD LTE", :lte},
      {"TDD LTE", :lte},
      {"CAT-M1", :lte_cat_m1},
      {"eMTC", :lte_cat_m1},
      {"LTE CAT-M1", :lte_cat_m1},
      {"CAT-NB1", :lte_cat_nb1},
      {"NBIoT", :lte_cat_nb1},
      {"LTE NB-IOT", :lte_cat_nb1},
      {"TDD NR5G", :nr5g},
      {"NR5G_SA", :nr5g},
      {"WCDMA", :umts},
      {"HSPA+", :umts},
      {"TDSCDMA", :umts},
      {"EDGE", :gsm},
      {"GPRS", :gsm},
      {"GSM", :gsm},
      {"CDMA1X", nil},
      {"HDR", nil},
      {"NO SERVICE", nil}
    ]

    test "vendor texts map to radios" do
      for {text, radio} <- @texts, do: assert(Radio.from_text(text) == radio, text)
    end
  end

  describe "signal rules" do
    test "on LTE, CSQ wins for asu/dbm over the vendor RSSI" do
      p = SignalRules.properties(%{csq: 20, vendor_lte: %{rssi: -50, rsrp: -90, rsrq: -10, sinr: 5}}, :lte)
      assert {p["signal_asu"], p["signal_dbm"], p["signal_4bars"]} == {20, -73, 3}
    end

    test "on GSM, LTE sources are ignored" do
      p = SignalRules.properties(%{csq: 20, cesq: %{rsrp: -90, rsrq: -10, sinr: nil}}, :gsm)
      assert {p["signal_rsrp"], p["signal_4bars"]} == {nil, 4}
    end

    test "out-of-range LTE values are nil" do
      p = SignalRules.properties(%{vendor_lte: %{rssi: -60, rsrp: -200, rsrq: -10, sinr: 5}}, :lte)
      assert p["signal_rsrp"] == nil
      assert p["signal_rsrq"] == -10
    end
  end

  describe "schedule" do
    test "config errors name the key" do
      assert_raise ArgumentError, ~r/cell_poll_ms/, fn -> Schedule.config!(cell_poll_ms: -1) end
      assert_raise ArgumentError, ~r/:bogus/, fn -> Schedule.config!(bogus: 1) end
    end

    test "signal polls every signal_poll_ms after the setup (which read it); nothing runs in between" do
      s = Schedule.new([signal_poll_ms: 1_000], 0)
      {[:setup, :identity], s} = Schedule.take_due(s, 0)
      s = s |> Schedule.done(:setup, :ok, 5) |> Schedule.done(:identity, :ok, 6)
      assert Schedule.take_due(s, 1_004) |> elem(0) == []
      assert Schedule.timeout(s, 7) == 998
      {[:signal], s} = Schedule.take_due(s, 1_005)
      s = Schedule.done(s, :signal, :ok, 1_010)
      assert Schedule.take_due(s, 2_009) |> elem(0) == []
      assert Schedule.take_due(s, 2_010) |> elem(0) == [:signal]
    end

    test "a modem reset re-runs setup (which reads the signal), and identity only when something is missing" do
      s = Schedule.new([], 0) |> Schedule.take_due(0) |> elem(1)
      {due, _} = s |> Schedule.trigger(:modem_reset, 10) |> Schedule.take_due(10)
      assert due == [:setup]
      {due, _} = s |> Schedule.trigger(:modem_reset, 10, identity_missing?: true) |> Schedule.take_due(10)
      assert due == [:setup, :identity]
    end

    test "a storm of cell changes in the same network plans one read per refresh_min_interval_ms" do
      s = Schedule.new([refresh_delay_ms: 200, refresh_min_interval_ms: 10_000], 0)
      {_, s} = Schedule.take_due(s, 0)
      s = Schedule.done(s, :setup, :ok, 0) |> Schedule.done(:identity, :ok, 0)

      # 1,000 cell changes a second for 30 s; each run takes what is due.
      {s, runs} =
        Enum.reduce(0..29_999, {s, []}, fn now, {s, runs} ->
          s = Schedule.trigger(s, :registration_changed, now, same_network?: true)
          {due, s} = Schedule.take_due(s, now)
          s = Enum.reduce(due, s, &Schedule.done(&2, &1, :ok, now))
          {s, runs ++ for(task <- due, do: {now, task})}
        end)

      cell_runs = for {at, :cell} <- runs, do: at
      assert cell_runs == [200, 10_200, 20_200]
      refute Enum.any?(runs, &match?({_, :operator}, &1))
      assert Schedule.next_at(s) != nil
    end

    test "a new registration state is read at once, whatever came before" do
      s = Schedule.new([refresh_min_interval_ms: 10_000], 0) |> Schedule.take_due(0) |> elem(1)
      s = Schedule.trigger(s, :registration_changed, 1_000, same_network?: true)
      {[:signal, :cell], s} = Schedule.take_due(s, 1_200)
      s = s |> Schedule.done(:signal, :ok, 1_200) |> Schedule.done(:cell, :ok, 1_200)
      s = Schedule.trigger(s, :registration_changed, 1_500)
      assert {s.due.operator, s.due.cell, s.due.signal} == {1_700, 1_700, 1_700}
    end

    test "a failed setup is retried" do
      s = Schedule.new([setup_retry_ms: 500], 0) |> Schedule.take_due(0) |> elem(1)
      s = Schedule.done(s, :setup, :error, 100)
      assert s.due.setup == 600
    end
  end
end
