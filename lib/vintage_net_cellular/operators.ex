defmodule VintageNetCellular.Operators do
  @moduledoc """
  MCC/MNC → network operator, from the table generated from mcc-mnc.net's
  list (as shipped in vintage_net_qmi on 2024-07-15, MIT licence) by
  `scripts/gen_tables.py`. The lookup is a binary search in Rust.

  MCC and MNC are strings and leading zeros matter: "01" and "001" are
  different MNCs, and a 3-digit MNC never matches its 2-digit prefix (405/030
  and 405/03 are different networks). vintage_net_qmi keeps them as strings
  too; vintage_net_mobile used integers, which can't tell them apart.

  A few pairs are listed more than once in the data (one network in several
  territories, such as 234/50 for the UK, Jersey and Guernsey); the row of the
  MCC's home country wins, then the more complete row, then the first one.

      iex> VintageNetCellular.Operators.lookup("310", "410")
      %{mcc: "310", mnc: "410", brand: "AT&T", operator: "AT&T Mobility", country: "United States of America", iso: "US"}
      iex> VintageNetCellular.Operators.provider_name("310", "260")
      "T-Mobile"
      iex> VintageNetCellular.Operators.provider_name("999", "99")
      nil
  """

  alias VintageNetCellular.Native

  @typedoc "An operator row. `brand` and `operator` are nil when the data has none."
  @type operator() :: %{
          mcc: String.t(),
          mnc: String.t(),
          brand: String.t() | nil,
          operator: String.t() | nil,
          country: String.t(),
          iso: String.t()
        }

  @doc """
  Looks up MCC and MNC (strings of digits; leading zeros significant).
  Returns nil for unknown pairs and for anything that isn't a string.
  """
  @spec lookup(String.t(), String.t()) :: operator() | nil
  def lookup(mcc, mnc) when is_binary(mcc) and is_binary(mnc), do: Native.operator_lookup(mcc, mnc)
  def lookup(_mcc, _mnc), do: nil

  @doc """
  Looks up a PLMN string, the MCC followed by the MNC as `AT+COPS` (numeric
  format) reports it: 5 digits are a 2-digit MNC, 6 digits a 3-digit one.

      iex> VintageNetCellular.Operators.lookup_plmn("310410").brand
      "AT&T"
      iex> VintageNetCellular.Operators.lookup_plmn("3104")
      nil
  """
  @spec lookup_plmn(String.t()) :: operator() | nil
  def lookup_plmn(plmn) when is_binary(plmn) and byte_size(plmn) in [5, 6] do
    <<mcc::binary-size(3), mnc::binary>> = plmn
    lookup(mcc, mnc)
  end

  def lookup_plmn(_plmn), do: nil

  @doc """
  The name to show for a network: its brand, else its operator, else nil.

      iex> VintageNetCellular.Operators.provider_name("202", "03")
      "OTE"
  """
  @spec provider_name(String.t(), String.t()) :: String.t() | nil
  def provider_name(mcc, mnc) do
    case lookup(mcc, mnc) do
      %{brand: brand} when is_binary(brand) -> brand
      %{operator: operator} when is_binary(operator) -> operator
      _ -> nil
    end
  end
end
