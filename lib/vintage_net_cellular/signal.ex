defmodule VintageNetCellular.Signal do
  @moduledoc """
  Signal conversions: ASU, dBm and 0..4 bars.

  `from_gsm_asu/1` and `from_lte_rssi/1` give bit-for-bit the numbers of
  vintage_net_mobile/vintage_net_qmi's `ASUCalculator`, so users moving from
  those libraries see the same values. `from_lte/3` and `from_cesq/2` add LTE
  RSRP/RSRQ/SINR bars. The conversions run in Rust (`cellular_core::signal`).

      iex> VintageNetCellular.Signal.from_gsm_asu(17)
      %{asu: 17, dbm: -79, bars: 3}

  ## GSM ASU (`+CSQ` rssi)

  - the ASU is clamped first: below 0 → 0; above 30, except 99 → 30;
  - dBm = 2·ASU − 113, and 99 (unknown) → −113;
  - bars: 99 → 0, ≤ 9 → 1, ≤ 14 → 2, ≤ 19 → 3, else 4;
  - the returned `asu` is the argument as given, unclamped.

  ## LTE RSSI (dBm)

  - ASU: 99 if dBm ≤ −113, 31 if dBm ≥ −50, else `div(dBm + 113, 2)`;
  - bars: > −65 → 4, > −75 → 3, > −85 → 2, > −113 → 1, else 0;
  - the returned `dbm` is the argument as given.

  ## LTE RSRP, RSRQ and SINR

  Each measurement gets bars from four thresholds: a value at or above the
  n-th threshold earns n bars. The thresholds are Android's defaults
  (`CarrierConfigManager`):

  | measurement | 1 bar | 2 bars | 3 bars | 4 bars | accepted range |
  |---|---|---|---|---|---|
  | RSRP (dBm) | −115 | −105 | −95 | −85 | −156..−31 |
  | RSRQ (dB) | −19 | −17 | −14 | −12 | −34..3 |
  | SINR (dB) | −3 | 1 | 5 | 13 | −30..50 |

  (Android's SINR thresholds are in tenths, −3.0/1.0/4.5/13.0 dB; 4.5 becomes 5,
  the first whole dB at or above it.) A value outside its accepted range is a
  sentinel or garbage and counts as unknown (`nil`).

  The overall `bars` are the RSRP bars when the RSRP is known (Android's default);
  otherwise the lower of the known RSRQ and SINR bars; 0 when nothing is known.
  `asu` is the LTE ASU, RSRP + 140 clamped to 0..97 (99 when the RSRP is unknown),
  and `dbm` is the RSRP, so the map also has the `%{asu, dbm, bars}` shape of the
  GSM conversions.

  ## `+CESQ` raw values

  `<rsrp>` n in 1..97 is the 1 dB bin starting at n − 141 dBm (0, "below −140",
  reads −140; 97 is "−44 or above"). `<rsrq>` n in 1..34 is the 0.5 dB bin starting
  at −20 + n/2 dB, rounded down to a whole dB (0, "below −19.5", reads −20). 255
  (and anything outside those ranges) is unknown.
  """

  alias VintageNetCellular.Native

  @typedoc "Bars out of 4."
  @type bars :: 0..4

  @typedoc "A GSM-style reading."
  @type t :: %{asu: integer(), dbm: integer(), bars: bars()}

  @typedoc "An LTE reading."
  @type lte :: %{
          rsrp: integer() | nil,
          rsrq: integer() | nil,
          sinr: integer() | nil,
          rsrp_bars: bars() | nil,
          rsrq_bars: bars() | nil,
          sinr_bars: bars() | nil,
          bars: bars(),
          asu: 0..97 | 99,
          dbm: integer() | nil
        }

  # Arguments are brought into a small range before they cross into Rust (which
  # takes 64-bit integers); outside these bounds the results no longer change.
  @bound 1_000_000

  @doc """
  Converts a GSM ASU (the `+CSQ` rssi, 0..31 or 99).

      iex> VintageNetCellular.Signal.from_gsm_asu(99)
      %{asu: 99, dbm: -113, bars: 0}

      iex> VintageNetCellular.Signal.from_gsm_asu(31)
      %{asu: 31, dbm: -53, bars: 4}

      iex> VintageNetCellular.Signal.from_gsm_asu(-4)
      %{asu: -4, dbm: -113, bars: 1}
  """
  @spec from_gsm_asu(integer()) :: t()
  def from_gsm_asu(asu) when is_integer(asu) do
    %{Native.signal_from_gsm_asu(bound(asu)) | asu: asu}
  end

  @doc """
  Converts an LTE RSSI in dBm.

      iex> VintageNetCellular.Signal.from_lte_rssi(-70)
      %{asu: 21, dbm: -70, bars: 3}

      iex> VintageNetCellular.Signal.from_lte_rssi(-113)
      %{asu: 99, dbm: -113, bars: 0}

      iex> VintageNetCellular.Signal.from_lte_rssi(-45)
      %{asu: 31, dbm: -45, bars: 4}
  """
  @spec from_lte_rssi(integer()) :: t()
  def from_lte_rssi(dbm) when is_integer(dbm) do
    %{Native.signal_from_lte_rssi(bound(dbm)) | dbm: dbm}
  end

  @doc """
  Converts LTE RSRP (dBm), RSRQ (dB) and SINR (dB); any of them may be nil.

      iex> VintageNetCellular.Signal.from_lte(-98, -12, 8)
      %{rsrp: -98, rsrq: -12, sinr: 8, rsrp_bars: 2, rsrq_bars: 4, sinr_bars: 3, bars: 2, asu: 42, dbm: -98}

      iex> VintageNetCellular.Signal.from_lte(nil, -15, 2)
      %{rsrp: nil, rsrq: -15, sinr: 2, rsrp_bars: nil, rsrq_bars: 2, sinr_bars: 2, bars: 2, asu: 99, dbm: nil}
  """
  @spec from_lte(integer() | nil, integer() | nil, integer() | nil) :: lte()
  def from_lte(rsrp, rsrq, sinr)
      when (is_integer(rsrp) or is_nil(rsrp)) and (is_integer(rsrq) or is_nil(rsrq)) and
             (is_integer(sinr) or is_nil(sinr)) do
    Native.signal_from_lte(bound(rsrp), bound(rsrq), bound(sinr))
  end

  @doc """
  Converts the raw `<rsrp>` and `<rsrq>` of a `+CESQ` line.

      iex> VintageNetCellular.Signal.from_cesq(80, 20)
      %{rsrp: -61, rsrq: -10, sinr: nil, rsrp_bars: 4, rsrq_bars: 4, sinr_bars: nil, bars: 4, asu: 79, dbm: -61}

      iex> VintageNetCellular.Signal.from_cesq(255, 255).bars
      0
  """
  @spec from_cesq(integer(), integer()) :: lte()
  def from_cesq(rsrp_raw, rsrq_raw) when is_integer(rsrp_raw) and is_integer(rsrq_raw) do
    Native.signal_from_cesq(bound(rsrp_raw), bound(rsrq_raw))
  end

  defp bound(nil), do: nil
  defp bound(n), do: n |> max(-@bound) |> min(@bound)
end
