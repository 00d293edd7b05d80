defmodule VintageNetCellular.ServiceProviders do
  @moduledoc """
  Choose the service provider (APN) for a SIM by its ICCID.

  The rules are vintage_net_qmi's, which users already know:

  1. Providers are checked in the order given.
  2. The first provider whose `:only_iccid_prefixes` holds a prefix of the
     ICCID wins at once.
  3. A provider without `:only_iccid_prefixes` (key absent or `nil`) is a
     catch-all. It is used only when no prefix matches, and when there are
     several the last one wins.
  4. No match and no catch-all: `{:error, :no_provider}`.

  An unknown ICCID (`nil`, e.g. the SIM can't be read) can only get a
  catch-all.

      iex> providers = [
      ...>   %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]},
      ...>   %{apn: "internet", only_iccid_prefixes: nil}
      ...> ]
      iex> VintageNetCellular.ServiceProviders.select(providers, "89882280000012345678")
      {:ok, %{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]}}
      iex> VintageNetCellular.ServiceProviders.select(providers, "8944500000000000000")
      {:ok, %{apn: "internet", only_iccid_prefixes: nil}}
      iex> VintageNetCellular.ServiceProviders.select(providers, nil)
      {:ok, %{apn: "internet", only_iccid_prefixes: nil}}
      iex> VintageNetCellular.ServiceProviders.select(Enum.take(providers, 1), "8944500000000000000")
      {:error, :no_provider}
  """

  @typedoc "A provider map; only `:only_iccid_prefixes` matters here."
  @type provider() :: %{optional(:only_iccid_prefixes) => [String.t()] | nil, optional(atom()) => any()}

  @doc """
  Select the provider for `iccid` from `providers` (normalized or not).
  """
  @spec select([provider()], String.t() | nil) :: {:ok, provider()} | {:error, :no_provider}
  def select(providers, iccid) when is_list(providers) do
    Enum.reduce_while(providers, {:error, :no_provider}, fn provider, best ->
      case Map.get(provider, :only_iccid_prefixes) do
        nil ->
          {:cont, {:ok, provider}}

        prefixes when is_list(prefixes) ->
          if is_binary(iccid) and String.starts_with?(iccid, prefixes),
            do: {:halt, {:ok, provider}},
            else: {:cont, best}
      end
    end)
  end
end
