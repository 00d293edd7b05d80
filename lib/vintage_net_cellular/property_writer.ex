defmodule VintageNetCellular.PropertyWriter do
  @moduledoc """
  Writes cellular facts under `["interface", ifname, "mobile", key]`.

  Every process of an interface (the connection manager, the monitor) goes
  through here, so that:

  * a value is written only when it differs from what the table holds, so
    subscribers never see an event for the same value;
  * `nil` is written as a value (PropertyTable 0.2+ semantics) only where a
    fact is really unknown now, and only over a value that was there: a key
    that never existed is not created just to hold `nil` (PropertyTable would
    send subscribers a `nil -> nil` event for it, and `VintageNet.get/1`
    returns `nil` for it anyway); `delete/2` removes a key that no longer
    applies;
  * the whole prefix can be removed in one call on teardown.

  The table is VintageNet's `PropertyTable` (named `VintageNet`), referenced
  at run time: every app that uses this library has it through vintage_net.

      iex> VintageNetCellular.PropertyWriter.name("ppp0", "signal_dbm")
      ["interface", "ppp0", "mobile", "signal_dbm"]
  """

  # PropertyTable comes with vintage_net, a peer dependency.
  @compile {:no_warn_undefined, PropertyTable}

  @table VintageNet
  @property_table PropertyTable

  @typedoc "A property key under the mobile prefix, e.g. \"signal_dbm\""
  @type key :: String.t()

  @doc "The full property name for `key` on `ifname`."
  @spec name(String.t(), key()) :: [String.t()]
  def name(ifname, key), do: ["interface", ifname, "mobile", key]

  @doc "The prefix all of an interface's cellular properties live under."
  @spec prefix(String.t()) :: [String.t()]
  def prefix(ifname), do: ["interface", ifname, "mobile"]

  @doc """
  Writes `value` unless the table already holds exactly that value.
  """
  @spec put(String.t(), key(), term()) :: :ok
  def put(ifname, key, value) do
    property = name(ifname, key)

    if changes?(@property_table.get(@table, property, :__absent__), value),
      do: @property_table.put(@table, property, value),
      else: :ok
  end

  @doc """
  Writes several keys; unchanged ones are skipped.
  """
  @spec put_many(String.t(), [{key(), term()}] | %{key() => term()}) :: :ok
  def put_many(ifname, pairs) do
    changed =
      for {key, value} <- pairs,
          property = name(ifname, key),
          changes?(@property_table.get(@table, property, :__absent__), value),
          do: {property, value}

    if changed == [], do: :ok, else: @property_table.put_many(@table, changed)
  end

  # Whether writing `new` over `current` (`:__absent__` for a missing key)
  # changes what a reader sees.
  defp changes?(:__absent__, nil), do: false
  defp changes?(current, new), do: current !== new

  @doc "Removes one key (no event if it was absent)."
  @spec delete(String.t(), key()) :: :ok
  def delete(ifname, key) do
    property = name(ifname, key)

    case @property_table.get(@table, property, :__absent__) do
      :__absent__ -> :ok
      _ -> @property_table.delete(@table, property)
    end
  end

  @doc "Removes every cellular property of `ifname`."
  @spec delete_all(String.t()) :: :ok
  def delete_all(ifname), do: @property_table.delete_matches(@table, prefix(ifname))
end
