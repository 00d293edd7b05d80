defmodule VintageNetCellular.SignalTest do
  use ExUnit.Case, async: true
  doctest VintageNetCellular.Signal

  alias VintageNetCellular.Signal

  # The rules of vintage_net_qmi's ASUCalculator, written out literally here as
  # an independent reference.
  defmodule Reference do
    def from_gsm_asu(asu) do
      clamped = clamp_gsm_asu(asu)
      %{asu: asu, dbm: gsm_asu_to_dbm(clamped), bars: gsm_asu_to_bars(clamped)}
    end

    def from_lte_rssi(rssi), do: %{asu: dbm_to_gsm_asu(rssi), dbm: rssi, bars: lte_rssi_to_bars(rssi)}

    defp gsm_asu_to_dbm(99), do: -113
    defp gsm_asu_to_dbm(asu), do: asu * 2 - 113

    defp dbm_to_gsm_asu(dbm) when dbm <= -113, do: 99
    defp dbm_to_gsm_asu(dbm) when dbm >= -50, do: 31
    defp dbm_to_gsm_asu(dbm), do: div(dbm + 113, 2)

    defp gsm_asu_to_bars(99), do: 0
    defp gsm_asu_to_bars(asu) when asu <= 9, do: 1
    defp gsm_asu_to_bars(asu) when asu <= 14, do: 2
    defp gsm_asu_to_bars(asu) when asu <= 19, do: 3
    defp gsm_asu_to_bars(asu) when asu <= 30, do: 4

    defp lte_rssi_to_bars(rssi) when rssi > -65, do: 4
    defp lte_rssi_to_bars(rssi) when rssi > -75, do: 3
    defp lte_rssi_to_bars(rssi) when rssi > -85, do: 2
    defp lte_rssi_to_bars(rssi) when rssi > -113, do: 1
    defp lte_rssi_to_bars(_rssi), do: 0

    defp clamp_gsm_asu(asu) when asu < 0, do: 0
    defp clamp_gsm_asu(99), do: 99
    defp clamp_gsm_asu(asu) when asu > 30, do: 30
    defp clamp_gsm_asu(asu), do: asu

    # The documented LTE rules.
    def from_lte(rsrp, rsrq, sinr) do
      rsrp = in_range(rsrp, -156, -31)
      rsrq = in_range(rsrq, -34, 3)
      sinr = in_range(sinr, -30, 50)
      rsrp_bars = bars(rsrp, [-115, -105, -95, -85])
      rsrq_bars = bars(rsrq, [-19, -17, -14, -12])
      sinr_bars = bars(sinr, [-3, 1, 5, 13])

      overall =
        cond do
          rsrp_bars != nil -> rsrp_bars
          rsrq_bars != nil and sinr_bars != nil -> min(rsrq_bars, sinr_bars)
          rsrq_bars != nil -> rsrq_bars
          sinr_bars != nil -> sinr_bars
          true -> 0
        end

      %{
        rsrp: rsrp,
        rsrq: rsrq,
        sinr: sinr,
        rsrp_bars: rsrp_bars,
        rsrq_bars: rsrq_bars,
        sinr_bars: sinr_bars,
        bars: overall,
        asu: if(rsrp, do: rsrp |> Kernel.+(140) |> max(0) |> min(97), else: 99),
        dbm: rsrp
      }
    end

    defp in_range(nil, _, _), do: nil
    defp in_range(v, lo, hi) when v >= lo and v <= hi, do: v
    defp in_range(_, _, _), do: nil

    defp bars(nil, _), do: nil
    defp bars(v, thresholds), do: Enum.count(thresholds, &(v >= &1))

    # 27.007: rsrp n (1..96) is [n - 141, n - 140) dBm, 0 is below -140, 97 is -44 or more;
    # rsrq n (1..33) is [-20 + n/2, -19.5 + n/2) dB, 0 below -19.5, 34 is -3 or more.
    def cesq_rsrp(0), do: -140
    def cesq_rsrp(n) when n in 1..97, do: n - 141
    def cesq_rsrp(_), do: nil

    def cesq_rsrq(0), do: -20
    def cesq_rsrq(n) when n in 1..34, do: floor(-20 + n / 2)
    def cesq_rsrq(_), do: nil
  end

  test "from_gsm_asu matches vintage_net_qmi over a wide range" do
    for asu <- -300..300 do
      assert Signal.from_gsm_asu(asu) == Reference.from_gsm_asu(asu), "asu #{asu}"
    end
  end

  test "from_gsm_asu handles integers beyond 64 bits like the reference" do
    for asu <- [-(2 ** 70), -(2 ** 63) - 1, -(2 ** 63), 2 ** 63 - 1, 2 ** 63, 2 ** 70, 1_000_001, -1_000_001] do
      assert Signal.from_gsm_asu(asu) == Reference.from_gsm_asu(asu), "asu #{asu}"
    end
  end

  test "from_lte_rssi matches vintage_net_qmi over a wide range" do
    for dbm <- -400..100 do
      assert Signal.from_lte_rssi(dbm) == Reference.from_lte_rssi(dbm), "dbm #{dbm}"
    end

    for dbm <- [-(2 ** 70), -(2 ** 63), 2 ** 63, 2 ** 70] do
      assert Signal.from_lte_rssi(dbm) == Reference.from_lte_rssi(dbm), "dbm #{dbm}"
    end
  end

  test "from_lte follows the documented thresholds for each measurement alone" do
    for rsrp <- -200..0 do
      assert Signal.from_lte(rsrp, nil, nil) == Reference.from_lte(rsrp, nil, nil), "rsrp #{rsrp}"
    end

    for rsrq <- -60..20 do
      assert Signal.from_lte(nil, rsrq, nil) == Reference.from_lte(nil, rsrq, nil), "rsrq #{rsrq}"
    end

    for sinr <- -60..80 do
      assert Signal.from_lte(nil, nil, sinr) == Reference.from_lte(nil, nil, sinr), "sinr #{sinr}"
    end

    assert Signal.from_lte(nil, nil, nil) == Reference.from_lte(nil, nil, nil)
  end

  test "from_lte combines measurements as documented" do
    for rsrp <- [nil | Enum.to_list(-160..-25//5)],
        rsrq <- [nil | Enum.to_list(-36..5//2)],
        sinr <- [nil | Enum.to_list(-32..52//3)] do
      assert Signal.from_lte(rsrp, rsrq, sinr) == Reference.from_lte(rsrp, rsrq, sinr),
             inspect({rsrp, rsrq, sinr})
    end

    assert Signal.from_lte(2 ** 80, -(2 ** 80), nil) == Reference.from_lte(nil, nil, nil)
  end

  test "from_cesq converts every raw pair as 27.007 defines" do
    for rsrp <- -2..260, rsrq <- [-1, 0, 1, 2, 19, 20, 21, 33, 34, 35, 99, 255] do
      want = Reference.from_lte(Reference.cesq_rsrp(rsrp), Reference.cesq_rsrq(rsrq), nil)
      assert Signal.from_cesq(rsrp, rsrq) == want, inspect({rsrp, rsrq})
    end

    for rsrq <- -2..260 do
      want = Reference.from_lte(nil, Reference.cesq_rsrq(rsrq), nil)
      assert Signal.from_cesq(255, rsrq) == want, "rsrq #{rsrq}"
    end
  end

  test "a CESQ line feeds from_cesq" do
    {:ok, {:cesq, %{rsrp: rsrp, rsrq: rsrq}}} = VintageNetCellular.AT.parse("+CESQ: 99,99,255,255,20,80")
    assert %{rsrp: -61, rsrq: -10, bars: 4} = Signal.from_cesq(rsrp, rsrq)
  end

  test "non-integers are refused by the guards" do
    assert_raise FunctionClauseError, fn -> Signal.from_gsm_asu(nil) end
    assert_raise FunctionClauseError, fn -> Signal.from_lte_rssi(1.0) end
    assert_raise FunctionClauseError, fn -> Signal.from_lte("x", nil, nil) end
    assert_raise FunctionClauseError, fn -> Signal.from_cesq(nil, 1) end
  end
end
