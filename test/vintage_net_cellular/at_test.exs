defmodule VintageNetCellular.ATTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.AT

  import Bitwise

  alias VintageNetCellular.AT

  # Real modem lines (ModemManager's test tables, vintage_net_mobile transcripts,
  # Quectel/SIMCom/u-blox/Telit/Huawei manuals and logs) with the result they must
  # give through the NIF. Odd-spacing and lower-case variants sit beside them.
  @rows [
    # +CSQ
    {"+CSQ: 5,99", :csq, %{rssi: 5, ber: 99}},
    {"+CSQ: 21,99", :csq, %{rssi: 21, ber: 99}},
    {"+CSQ: 28,0", :csq, %{rssi: 28, ber: 0}},
    {"+CSQ: 31, 99", :csq, %{rssi: 31, ber: 99}},
    {"+CSQ: 99,99", :csq, %{rssi: 99, ber: 99}},
    {"+CSQ:17,99", :csq, %{rssi: 17, ber: 99}},
    {"+CSQ: 17, 99 \r\n", :csq, %{rssi: 17, ber: 99}},
    {"+csq: 17,99", :csq, %{rssi: 17, ber: 99}},
    # +CESQ
    {"+CESQ: 99,99,255,255,20,80", :cesq, %{rxlev: 99, ber: 99, rscp: 255, ecno: 255, rsrq: 20, rsrp: 80}},
    {"+CESQ: 99,99,95,40,255,255", :cesq, %{rxlev: 99, ber: 99, rscp: 95, ecno: 40, rsrq: 255, rsrp: 255}},
    {"+CESQ: 10,6,255,255,255,255", :cesq, %{rxlev: 10, ber: 6, rscp: 255, ecno: 255, rsrq: 255, rsrp: 255}},
    # +CREG: solicited, URC, n in URC, unquoted, spacing
    {"+CREG: 0,1", :creg, %{stat: :registered_home, lac: nil, ci: nil, act: nil}},
    {"+CREG: 5", :creg, %{stat: :registered_roaming, lac: nil, ci: nil, act: nil}},
    {"+CREG: 1,3", :creg, %{stat: :denied, lac: nil, ci: nil, act: nil}},
    {~s(+CREG: 1,"00C3","0B2D3F0",7), :creg, %{stat: :registered_home, lac: 0xC3, ci: 0xB2D3F0, act: :eutran}},
    {~s(+CREG: 2,1,"00C3","0B2D3F0",7), :creg, %{stat: :registered_home, lac: 0xC3, ci: 0xB2D3F0, act: :eutran}},
    {"+CREG: 1,1,84CD,00D30173", :creg, %{stat: :registered_home, lac: 0x84CD, ci: 0xD30173, act: nil}},
    {"+CREG: 1,84CD,00D30156", :creg, %{stat: :registered_home, lac: 0x84CD, ci: 0xD30156, act: nil}},
    {"+CREG: 2,0,00,0", :creg, %{stat: :not_registered, lac: 0, ci: 0, act: nil}},
    {"+CREG: 2,,", :creg, %{stat: :searching, lac: nil, ci: nil, act: nil}},
    {~s(+CREG:002,001,"18d8","ffff"), :creg, %{stat: :registered_home, lac: 0x18D8, ci: 0xFFFF, act: nil}},
    {"+CREG: 1,0001,0010,0", :creg, %{stat: :registered_home, lac: 1, ci: 0x10, act: :gsm}},
    {~s(+CREG: 2,6,"8B37","0A265185",7), :creg, %{stat: :sms_only_home, lac: 0x8B37, ci: 0x0A265185, act: :eutran}},
    {~s(+CREG: 6,"8B37","0A265185",7), :creg, %{stat: :sms_only_home, lac: 0x8B37, ci: 0x0A265185, act: :eutran}},
    {~s(+CREG: 2,5,"0502","0404736D"), :creg, %{stat: :registered_roaming, lac: 0x0502, ci: 0x0404736D, act: nil}},
    {~s(+CREG: 1,"1234","0011223",7), :creg, %{stat: :registered_home, lac: 0x1234, ci: 0x11223, act: :eutran}},
    {"+CREG: 2,1,000B,2816, B, C2816", :creg, %{stat: :registered_home, lac: 0xB, ci: 0x2816, act: nil}},
    # +CGREG
    {~s(+CGREG: 2,1,"8BE3","00002B5D",3), :cgreg, %{stat: :registered_home, lac: 0x8BE3, ci: 0x2B5D, act: :gsm_egprs}},
    {~s(+CGREG: 1,"8BE3","00002B5D",3), :cgreg, %{stat: :registered_home, lac: 0x8BE3, ci: 0x2B5D, act: :gsm_egprs}},
    {"+CGREG: 2,1, 81ED, 1A9CEB", :cgreg, %{stat: :registered_home, lac: 0x81ED, ci: 0x1A9CEB, act: nil}},
    {~s(+CGREG: 1,"1422","00000142",3,"00"), :cgreg,
     %{stat: :registered_home, lac: 0x1422, ci: 0x142, act: :gsm_egprs, rac: 0}},
    # +CEREG
    {"+CEREG: 0,1", :cereg, %{stat: :registered_home, lac: nil, tac: nil, ci: nil, act: nil}},
    {"+CEREG: 2,1, 1F00, 79D903 ,7", :cereg, %{stat: :registered_home, lac: 0x1F00, tac: 0x1F00, ci: 0x79D903}},
    {"+CEREG: 1, 1F00, 79D903 ,7", :cereg, %{stat: :registered_home, tac: 0x1F00, ci: 0x79D903, act: :eutran}},
    {"+CEREG: 1, 2, 0001, 00000100, 7", :cereg, %{stat: :searching, tac: 1, ci: 0x100, act: :eutran}},
    {"+CEREG: 2, 0001, 00000100, 7", :cereg, %{stat: :searching, tac: 1, ci: 0x100, act: :eutran}},
    {"+CEREG: 2,1, 1F00, 20 ,79D903 ,7", :cereg, %{stat: :registered_home, tac: 0x1F00, ci: 0x79D903, act: :eutran}},
    {~s(+CEREG: 4,1,"1A2B","01A2D001",7,,,"00000000","00111000"), :cereg,
     %{stat: :registered_home, tac: 0x1A2B, active_time: "00000000", periodic_tau: "00111000"}},
    {~s(+CEREG: 3,3,"FFFE","FFFFFFF",7,0,15), :cereg, %{stat: :denied, cause_type: 0, reject_cause: 15}},
    {~s(+cereg: 5,"1A2B","01A2D301",9), :cereg, %{stat: :registered_roaming, act: :eutran_nb_s1}},
    # +C5GREG
    {"+C5GREG: 2,1,1F00,79D903,11,6,ABCDEF", :c5greg,
     %{stat: :registered_home, lac: 0x1F00, tac: 0x1F00, ci: 0x79D903, act: :nr_5gcn, allowed_nssai: "ABCDEF"}},
    {"+C5GREG: 1,1F00,79D903,11,6,ABCDEF", :c5greg, %{stat: :registered_home, ci: 0x79D903, act: :nr_5gcn}},
    {"+C5GREG: 3", :c5greg, %{stat: :denied}},
    # +COPS
    {~s(+COPS: 0,0,"Twilio",7), :cops, %{mode: 0, format: 0, operator: "Twilio", act: :eutran, mcc: nil, mnc: nil}},
    {~s(+COPS: 1,2,"46000"), :cops, %{mode: 1, format: 2, operator: "46000", act: nil, mcc: "460", mnc: "00"}},
    {~s(+COPS: 0,2,"00101",7), :cops, %{mode: 0, format: 2, operator: "00101", act: :eutran, mcc: "001", mnc: "01"}},
    {"+COPS: 0", :cops, %{mode: 0, format: nil, operator: nil, act: nil, mcc: nil, mnc: nil}},
    {~s(+cops:0 , 0 , "Vodafone IT" , 2), :cops, %{operator: "Vodafone IT", act: :utran}},
    # +CPIN
    {"+CPIN: READY", :cpin, %{state: :ready}},
    {"+CPIN: SIM PIN", :cpin, %{state: :sim_pin}},
    {"+CPIN: SIM PUK", :cpin, %{state: :sim_puk}},
    {"+CPIN: PH-NET PIN", :cpin, %{state: :ph_net_pin}},
    {"+CPIN: NOT INSERTED", :cpin, %{state: :not_inserted}},
    {"+CPIN: NOT READY", :cpin, %{state: :not_ready}},
    {~s(+CPIN: "READY"), :cpin, %{state: :ready}},
    {"+cpin:ready", :cpin, %{state: :ready}},
    # ICCID
    {"+QCCID: 8901260852290847433F", :iccid, %{iccid: "8901260852290847433"}},
    {"+CICCID: 89860318740217368217", :iccid, %{iccid: "89860318740217368217"}},
    {"+ICCID: 89014103211118510720", :iccid, %{iccid: "89014103211118510720"}},
    {~s(+CCID: "8939107800023416395"), :iccid, %{iccid: "8939107800023416395"}},
    {"^ICCID: 98101430121181157002", :iccid, %{iccid: "89014103211118510720"}},
    {~s(^ICCID: "984402003576012594F9"), :iccid, %{iccid: "8944200053671052499"}},
    {"!ICCID: 89014104279277854227", :iccid, %{iccid: "89014104279277854227"}},
    {"ICCID: 89014104279277854227", :iccid, %{iccid: "89014104279277854227"}},
    {"#CCID: 89390100001234567890", :iccid, %{iccid: "89390100001234567890"}},
    # PDP contexts
    {~s(+CGDCONT: 1,"IP",,,0,0), :cgdcont, %{cid: 1, pdp_type: "IP", apn: nil}},
    {~s(+CGDCONT: 1,"IPV4V6","hologram","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0), :cgdcont,
     %{cid: 1, pdp_type: "IPV4V6", apn: "hologram"}},
    {~s(+CGDCONT: 2,"IP","ac.vodafone.es.MNC001.MCC214.GPRS","",0,0), :cgdcont,
     %{cid: 2, pdp_type: "IP", apn: "ac.vodafone.es.MNC001.MCC214.GPRS"}},
    {~s(+CGAUTH: 1,2,"user","secret"), :cgauth, %{cid: 1, auth: :chap, username: "user"}},
    {"+CGAUTH: 1,0", :cgauth, %{cid: 1, auth: :none, username: nil}},
    {~s(+CGAUTH: 3,3,"u"), :cgauth, %{cid: 3, auth: :pap_or_chap, username: "u"}},
    # Errors
    {"+CME ERROR: 10", :cme_error, %{code: 10, message: "SIM not inserted"}},
    {"+CME ERROR: SIM not inserted", :cme_error, %{code: 10, message: "SIM not inserted"}},
    {"+CME ERROR: 516", :cme_error, %{code: 516, message: nil}},
    {"+CME ERROR: Not fixed now", :cme_error, %{code: nil, message: "Not fixed now"}},
    {"+cme error:3", :cme_error, %{code: 3, message: "operation not allowed"}},
    {"+CMS ERROR: 500", :cms_error, %{code: 500, message: "unknown error"}},
    # Quectel
    {~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110), :qnwinfo,
     %{service: true, act: "FDD LTE", operator: "310410", mcc: "310", mnc: "410", band: "LTE BAND 12", channel: 5110}},
    {~s(+QNWINFO: "FDD LTE","310260","LTE BAND 4",2300), :qnwinfo, %{mnc: "260", channel: 2300}},
    {"+QNWINFO: No Service", :qnwinfo,
     %{service: false, act: nil, operator: nil, mcc: nil, mnc: nil, band: nil, channel: nil}},
    {~s(+QCSQ: "LTE",-52,-81,195,-10), :qcsq,
     %{
       sysmode: "LTE",
       rssi: -52,
       rsrp: -81,
       sinr: 19,
       sinr_raw: 195,
       rsrq: -10,
       rscp: nil,
       ecio: nil,
       values: [-52, -81, 195, -10]
     }},
    {~s(+QCSQ: "CAT-M1",-91,-129,67,-20), :qcsq, %{rsrp: -129, sinr: -7, rsrq: -20}},
    {~s(+QCSQ: "LTE",77,-116,76,-17), :qcsq, %{rssi: -77, sinr: -5}},
    {~s(+QCSQ: "WCDMA",-71,-75,-4), :qcsq, %{rssi: -71, rscp: -75, ecio: -4, rsrp: nil}},
    {~s(+QCSQ: "NOSERVICE"), :qcsq, %{sysmode: "NOSERVICE", rssi: nil, values: []}},
    # SIMCom
    {"+CPSI: LTE,Online,310-410,0x4F1B,26140801,318,EUTRAN-BAND12,5110,3,3,-11,-88,-61,15", :cpsi,
     %{
       system_mode: "LTE",
       operation_mode: "Online",
       mcc: "310",
       mnc: "410",
       lac: 0x4F1B,
       tac: 0x4F1B,
       cell_id: 26_140_801,
       pci: 318,
       psc: nil,
       band: "EUTRAN-BAND12",
       channel: 5110,
       dl_bandwidth: 3,
       ul_bandwidth: 3,
       rsrq: -11,
       rsrp: -88,
       rssi: -61,
       sinr: 15,
       rxlev: nil,
       rscp: nil,
       ecio: nil
     }},
    {"+CPSI: LTE,Online,460-01,0x7496,251941991,203,EUTRAN-BAND8,3740,3,3,-92,-672,-418,14", :cpsi,
     %{rsrq: -9, rsrp: -67, rssi: -42, sinr: 14, mnc: "01"}},
    {"+CPSI: LTE CAT-M1,Online,460-00,0x1816,121939724,280,EUTRAN-BAND3,1300,5,5,-11,-68,-38,19", :cpsi,
     %{system_mode: "LTE CAT-M1", rsrp: -68, mnc: "00"}},
    {"+CPSI: GSM,Online,460-00,0x182d,12401,27 EGSM 900,-64,2110,42-42", :cpsi,
     %{lac: 0x182D, tac: nil, cell_id: 12_401, channel: 27, band: "EGSM 900", rxlev: -64}},
    {"+CPSI: WCDMA,Online,250-20,0x4D07,4487261,WCDMA IMT 2000,38,10563,0,4.0,69,32,46,500", :cpsi,
     %{band: "WCDMA IMT 2000", psc: 38, channel: 10_563, ecio: 4, rscp: 69}},
    {"+CPSI: NO SERVICE,Online", :cpsi, %{system_mode: "NO SERVICE", operation_mode: "Online", mcc: nil}},
    # Network time: +CTZE/+CTZV (AT+CTZR), Quectel +QLTS
    {~s(+CTZE: "+32",0,"2016/04/22,09:07:38"), :ctze,
     %{tz: 32, dst: 0, time: %{year: 2016, month: 4, day: 22, hour: 9, minute: 7, second: 38}}},
    {~s(+CTZE: "-16",1,"2024/07/04,12:00:05"), :ctze, %{tz: -16, dst: 1}},
    {~s(+CTZE: "+04",0), :ctze, %{tz: 4, dst: 0, time: nil}},
    {~s(+CTZV: "+32"), :ctzv, %{tz: 32, dst: nil}},
    {"+CTZV: -20", :ctzv, %{tz: -20, dst: nil}},
    {~s(+QLTS: "2020/03/13,13:21:36-16,1"), :qlts,
     %{tz: -16, dst: 1, time: %{year: 2020, month: 3, day: 13, hour: 13, minute: 21, second: 36}}},
    {~s(+QLTS: ""), :qlts, %{tz: nil, dst: nil, time: nil}},
    # Unknown but well-formed
    {~s(+QIND: "csq",21,99), :unknown, %{prefix: "+QIND", fields: ["csq", "21", "99"]}},
    {~s(+QSPN: "Twilio","Twilio","",0,"310260"), :unknown,
     %{prefix: "+QSPN", fields: ["Twilio", "Twilio", "", "0", "310260"]}},
    {"^HCSQ: \"LTE\",30,19,66,0", :unknown, %{prefix: "^HCSQ", fields: ["LTE", "30", "19", "66", "0"]}},
    {"^SYSSTART", :unknown, %{prefix: "^SYSSTART", fields: []}},
    {"+CSQ: (0-31,99),(0-7,99)", :unknown, %{prefix: "+CSQ", fields: ["(0-31,99)", "(0-7,99)"]}},
    {~s(+QICSGP: 1,"internet","user","secret",1), :unknown,
     %{prefix: "+QICSGP", fields: ["1", "internet", "user", "[redacted]", "[redacted]"]}}
  ]

  test "real modem lines parse through the NIF" do
    for {line, kind, want} <- @rows do
      assert {:ok, {^kind, got}} = AT.parse(line), "#{inspect(line)}: #{inspect(AT.parse(line))}"

      for {key, value} <- want do
        assert Map.fetch(got, key) == {:ok, value}, "#{inspect(line)} #{key}: #{inspect(got)}"
      end
    end
  end

  @keys %{
    csq: [:ber, :rssi],
    cesq: [:ber, :ecno, :rscp, :rsrp, :rsrq, :rxlev],
    creg: [:act, :cause_type, :ci, :lac, :reject_cause, :stat],
    cgreg: [:act, :cause_type, :ci, :lac, :rac, :reject_cause, :stat],
    cereg: [:act, :active_time, :cause_type, :ci, :lac, :periodic_tau, :reject_cause, :stat, :tac],
    c5greg: [:act, :allowed_nssai, :cause_type, :ci, :lac, :reject_cause, :stat, :tac],
    cops: [:act, :format, :mcc, :mnc, :mode, :operator],
    cpin: [:state],
    iccid: [:iccid],
    cgdcont: [:apn, :cid, :pdp_type],
    cgauth: [:auth, :cid, :username],
    cme_error: [:code, :message],
    cms_error: [:code, :message],
    qnwinfo: [:act, :band, :channel, :mcc, :mnc, :operator, :service],
    qcsq: [:ecio, :rscp, :rsrp, :rsrq, :rssi, :sinr, :sinr_raw, :sysmode, :values],
    cpsi:
      ~w(band cell_id channel dl_bandwidth ecio lac mcc mnc operation_mode pci psc rscp rsrp rsrq rssi rxlev sinr system_mode tac ul_bandwidth)a,
    ctzv: [:dst, :tz],
    ctze: [:dst, :time, :tz],
    qlts: [:dst, :time, :tz],
    unknown: [:fields, :prefix]
  }

  test "every kind always has exactly its documented keys" do
    for {line, kind, _} <- @rows do
      {:ok, {^kind, got}} = AT.parse(line)
      assert got |> Map.keys() |> Enum.sort() == Map.fetch!(@keys, kind), inspect(line)
    end

    assert @rows |> Enum.map(&elem(&1, 1)) |> Enum.uniq() |> Enum.sort() == @keys |> Map.keys() |> Enum.sort()
  end

  test "the password of +CGAUTH never comes back" do
    for line <- [
          ~s(+CGAUTH: 1,2,"user","hunter2"),
          ~s(+CGAUTH: 1,9,"user","hunter2"),
          ~s(+CGAUTH: x,2,"user","hunter2"),
          ~s(+CGAUTH: 1,2,"user","hunter2),
          ~s(+CGAUTH: 1,2,"user","hunter2"junk)
        ] do
      refute inspect(AT.parse(line)) =~ "hunter2", line
    end
  end

  test "errors name the field or byte" do
    rows = [
      {"", :empty, "no characters"},
      {"\r\n", :empty, "no characters"},
      {"OK", :no_prefix, "'O'"},
      {"+CSQ 5,99", :bad_prefix, "','"},
      {"+CSQ: 5A,99", :invalid_field, ~s|csq: <rssi> (field 1) is not an integer: "5A"|},
      {"+CSQ: 32,99", :invalid_field, "outside 0..31 and 99"},
      {"+CSQ: 17", :missing_field, "csq: <ber> is missing"},
      {"+CSQ: 17,99,1", :extra_field, "3 fields"},
      {~s(+CSQ: "Missing quote), :unterminated_quote, "field 1"},
      {"+CREG: 12", :invalid_field, "<stat> (field 1) is outside 0..11"},
      {~s(+CEREG: 1,"00G3","0B2D3F0",7), :invalid_field, "cereg: <tac> (field 2) is not a hexadecimal number"},
      {"+CPIN: BOGUS", :invalid_field, ~s("BOGUS" is not a known +CPIN code)},
      {"+CCID: 89X1260852290847433", :invalid_field, "'X' (0x58) at position 3"},
      {"+CCID: 8901260852", :invalid_field, "has 10 digits"},
      {<<"+CSQ: 1", 0xFF, ",99">>, :invalid_utf8, "0xFF at offset 7"},
      {<<"+CSQ: 1", 0, ",99">>, :control_byte, "0x00 at offset 7"},
      {"+CSQ: " <> String.duplicate("1", 5000), :too_long, "5006 bytes"}
    ]

    for {line, reason, detail} <- rows do
      assert {:error, {^reason, text}} = AT.parse(line), inspect(line)
      assert text =~ detail, "#{inspect(line)}: #{text}"
    end
  end

  test "non-binaries are refused without raising" do
    for term <- [nil, :csq, 17, ~c"+CSQ: 17,99", {:line, "+CSQ: 1,2"}, %{}, [<<1>>], <<1::3>>, 1.5, self()] do
      assert {:error, {:not_a_binary, detail}} = AT.parse(term)
      assert detail =~ "expected a binary"
    end
  end

  # xorshift64, so failures reproduce.
  defp next(x) do
    x = bxor(x, x <<< 13 &&& 0xFFFFFFFFFFFFFFFF)
    x = bxor(x, x >>> 7)
    bxor(x, x <<< 17 &&& 0xFFFFFFFFFFFFFFFF)
  end

  defp mutate(line, seed) do
    bytes = :binary.bin_to_list(line)
    seed = next(seed)
    pos = rem(seed, length(bytes) + 1)
    seed = next(seed)
    byte = Enum.at(~c"+:,\"()- 0aF\r\n" ++ [0xFF, 0], rem(seed, 15))

    mutated =
      case rem(next(seed), 3) do
        0 -> List.insert_at(bytes, pos, byte)
        1 -> List.delete_at(bytes, pos)
        _ -> List.replace_at(bytes, pos, byte)
      end

    {:erlang.list_to_binary(mutated), next(seed)}
  end

  defp random_bytes(seed, 0, acc), do: {:erlang.list_to_binary(acc), seed}

  defp random_bytes(seed, n, acc) do
    seed = next(seed)
    random_bytes(seed, n - 1, [rem(seed, 256) | acc])
  end

  test "random bytes and mutated real lines never raise" do
    lines = Enum.map(@rows, &elem(&1, 0))

    Enum.reduce(1..20_000, 0x2545F4914F6CDD1D, fn i, seed ->
      {line, seed} =
        if rem(i, 2) == 0 do
          mutate(Enum.at(lines, rem(i, length(lines))), seed)
        else
          seed = next(seed)
          random_bytes(seed, rem(seed, 80), [])
        end

      case AT.parse(line) do
        {:ok, {kind, map}} when is_atom(kind) and is_map(map) -> :ok
        {:error, {reason, detail}} when is_atom(reason) and is_binary(detail) -> :ok
      end

      seed
    end)
  end
end
