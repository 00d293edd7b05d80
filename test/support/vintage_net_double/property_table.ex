defmodule PropertyTable do
  @moduledoc """
  Test double of the `property_table` library (hex 0.2.x / 0.3.x), limited to
  what VintageNet and its technologies use.

  Behaviour mirrored from the real library:

  * properties are lists of strings; anything else raises `ArgumentError`
    (`put/3`, `put_many/2`) and writes nothing;
  * `nil` is a value: `put(t, name, nil)` stores `nil` and does not delete;
  * a `put` that writes the value already stored (`===`) changes nothing and
    sends no event;
  * `put_many/2` skips list elements that aren't `{property, value}`, is
    atomic (one bad property and nothing is written), keeps the last value when a property repeats, and
    sends events only for properties that changed, ordered by the position of
    their last occurrence;
  * `delete/2` of an absent property sends nothing; `delete_matches/2` deletes
    everything the pattern matches first, then sends one event per property
    with `new = nil`;
  * patterns are lists of strings with two special atoms: `:_` matches any one
    element and `:"$"` (only as the last element) matches the end of the
    property. Without `:"$"` a pattern matches by prefix, so `[]` matches all;
  * subscribers get `{table, property, old, new, %{old_timestamp: t0,
    new_timestamp: t1}}` (the `tuple_events: true` format VintageNet uses),
    sent before the writing call returns. Timestamps come from
    `System.monotonic_time/0`. For a property that did not exist,
    `old_timestamp` is the table's start time (property_table >= 0.2.6);
  * `unsubscribe/2` removes the caller's subscriptions whose pattern matches
    the given one as an ETS match pattern (so `:_` there is a wildcard), as the
    real library does through `Registry.unregister_match/3`.

  Only tuple events are modelled: starting a table without
  `tuple_events: true` raises.
  """

  alias VintageNet.Double.PropertyTable.Matcher
  alias VintageNet.Double.PropertyTable.Updater

  @type table_id() :: atom()
  @type property() :: [String.t()]
  @type pattern() :: [String.t() | :_ | :"$"]
  @type value() :: any()
  @type property_value() :: {property(), value()}

  @doc "Start a table registered as `opts[:name]`."
  @spec start_link(keyword()) :: Supervisor.on_start()
  def start_link(opts) do
    name =
      case Keyword.fetch(opts, :name) do
        {:ok, name} when is_atom(name) -> name
        {:ok, other} -> raise ArgumentError, "expected :name to be an atom, got: #{inspect(other)}"
        :error -> raise ArgumentError, "expected :name option to be present"
      end

    if Keyword.get(opts, :tuple_events) != true do
      raise ArgumentError,
            "the PropertyTable double only models VintageNet's table: pass tuple_events: true"
    end

    properties = Keyword.get(opts, :properties, [])

    Enum.each(properties, fn {property, _} ->
      with {:error, e} <- Matcher.check_property(property), do: raise(e)
    end)

    Supervisor.start_link(
      VintageNet.Double.PropertyTable.Supervisor,
      %{table: name, properties: properties},
      name: name
    )
  end

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{
      id: Keyword.get(opts, :name, PropertyTable),
      start: {__MODULE__, :start_link, [opts]},
      type: :supervisor
    }
  end

  @doc "The value of `property`, or `default` when it is absent."
  @spec get(table_id(), property(), value()) :: value()
  def get(table, property, default \\ nil) do
    case :ets.lookup(table, property) do
      [{_, value, _timestamp}] -> value
      [] -> default
    end
  end

  @doc "Every `{property, value}` that `pattern` matches, in no particular order."
  @spec match(table_id(), pattern()) :: [property_value()]
  def match(table, pattern) do
    :ets.foldl(
      fn {property, value, _ts}, acc ->
        if Matcher.matches?(pattern, property), do: [{property, value} | acc], else: acc
      end,
      [],
      table
    )
  end

  @doc "Send the caller an event for every change to a property that `pattern` matches."
  @spec subscribe(table_id(), pattern()) :: :ok
  def subscribe(table, pattern) do
    case Matcher.check_pattern(pattern) do
      :ok ->
        {:ok, _} = Registry.register(Updater.registry(table), :subscriptions, pattern)
        :ok

      {:error, e} ->
        raise e
    end
  end

  @doc "Stop the caller's subscriptions to `pattern`."
  @spec unsubscribe(table_id(), pattern()) :: :ok
  def unsubscribe(table, pattern) do
    Registry.unregister_match(Updater.registry(table), :subscriptions, pattern)
  end

  @doc "Store `value` under `property` and notify subscribers if it changed."
  @spec put(table_id(), property(), value()) :: :ok
  def put(table, property, value) do
    Updater.call!(table, {:put, [{property, value}], System.monotonic_time()})
  end

  @doc "Store several properties at once; one event per property that changed."
  @spec put_many(table_id(), [property_value()]) :: :ok
  def put_many(table, properties) when is_list(properties) do
    # Like the real library, elements that aren't 2-tuples are skipped.
    pairs = for {property, value} <- properties, do: {property, value}
    Updater.call!(table, {:put, pairs, System.monotonic_time()})
  end

  @doc "Remove `property`; subscribers see its new value as `nil`."
  @spec delete(table_id(), property()) :: :ok
  def delete(table, property) do
    Updater.call!(table, {:delete, property, System.monotonic_time()})
  end

  @doc "Remove every property that `pattern` matches (a prefix unless it ends in `:\"$\"`)."
  @spec delete_matches(table_id(), pattern()) :: :ok
  def delete_matches(table, pattern) do
    Updater.call!(table, {:delete_matches, pattern, System.monotonic_time()})
  end
end

defmodule VintageNet.Double.PropertyTable.Matcher do
  @moduledoc false
  # String-path matching as property_table's default matcher defines it.

  @spec check_property(any()) :: :ok | {:error, Exception.t()}
  def check_property(property) when is_list(property) do
    case Enum.find(property, &(not is_binary(&1))) do
      nil -> :ok
      bad -> {:error, ArgumentError.exception("Invalid property element '#{inspect(bad)}'")}
    end
  end

  def check_property(_), do: {:error, ArgumentError.exception("Pattern should be a list of strings")}

  @spec check_pattern(any()) :: :ok | {:error, Exception.t()}
  def check_pattern(pattern) when is_list(pattern) do
    case Enum.find(pattern, &(not (is_binary(&1) or &1 in [:_, :"$"]))) do
      nil -> :ok
      bad -> {:error, ArgumentError.exception("Invalid pattern element '#{inspect(bad)}'")}
    end
  end

  def check_pattern(_),
    do: {:error, ArgumentError.exception("Pattern should be a list of strings or wildcard")}

  @spec matches?(list(), list()) :: boolean()
  def matches?([], _property), do: true
  def matches?([:"$"], []), do: true
  def matches?([:_ | pattern], [_ | property]), do: matches?(pattern, property)
  def matches?([same | pattern], [same | property]) when is_binary(same), do: matches?(pattern, property)
  def matches?(_pattern, _property), do: false
end

defmodule VintageNet.Double.PropertyTable.Supervisor do
  @moduledoc false
  use Supervisor

  @impl Supervisor
  def init(%{table: table, properties: properties}) do
    # The ETS table belongs to this supervisor so that it outlives an Updater crash.
    started = System.monotonic_time()
    ^table = :ets.new(table, [:named_table, :public, read_concurrency: true])
    :ets.insert(table, for({p, v} <- properties, do: {p, v, started}))

    children = [
      {Registry, keys: :duplicate, name: VintageNet.Double.PropertyTable.Updater.registry(table)},
      {VintageNet.Double.PropertyTable.Updater, %{table: table, started: started}}
    ]

    Supervisor.init(children, strategy: :one_for_one)
  end
end

defmodule VintageNet.Double.PropertyTable.Updater do
  @moduledoc false
  # Serializes every write and sends the change events.
  use GenServer

  alias VintageNet.Double.PropertyTable.Matcher

  @spec registry(atom()) :: atom()
  def registry(table), do: Module.concat(table, "Double.Subscriptions")

  defp server(table), do: Module.concat(table, "Double.Updater")

  @spec start_link(map()) :: GenServer.on_start()
  def start_link(%{table: table} = args), do: GenServer.start_link(__MODULE__, args, name: server(table))

  @spec call!(atom(), tuple()) :: :ok
  def call!(table, request) do
    case GenServer.call(server(table), request) do
      :ok -> :ok
      {:error, exception} -> raise exception
    end
  end

  @impl GenServer
  def init(args), do: {:ok, args}

  @impl GenServer
  def handle_call({:put, properties, now}, _from, state) do
    with :ok <- check_all(properties) do
      changes =
        properties
        |> last_occurrences()
        |> Enum.flat_map(fn {property, value} ->
          case :ets.lookup(state.table, property) do
            [{_, old, _}] when old === value -> []
            [{_, old, old_ts}] -> [{property, old, value, old_ts}]
            [] -> [{property, nil, value, state.started}]
          end
        end)

      :ets.insert(state.table, for({p, _old, v, _} <- changes, do: {p, v, now}))
      Enum.each(changes, fn {p, old, new, old_ts} -> notify(state, p, old, new, old_ts, now) end)
      {:reply, :ok, state}
    else
      error -> {:reply, error, state}
    end
  end

  def handle_call({:delete, property, now}, _from, state) do
    case :ets.take(state.table, property) do
      [{_, old, old_ts}] -> notify(state, property, old, nil, old_ts, now)
      [] -> :ok
    end

    {:reply, :ok, state}
  end

  def handle_call({:delete_matches, pattern, now}, _from, state) do
    doomed =
      :ets.foldl(
        fn {p, _v, _ts} = row, acc -> if Matcher.matches?(pattern, p), do: [row | acc], else: acc end,
        [],
        state.table
      )
      |> Enum.sort()

    Enum.each(doomed, fn {p, _, _} -> :ets.delete(state.table, p) end)
    Enum.each(doomed, fn {p, old, old_ts} -> notify(state, p, old, nil, old_ts, now) end)
    {:reply, :ok, state}
  end

  defp check_all(properties) do
    Enum.reduce_while(properties, :ok, fn {property, _value}, :ok ->
      case Matcher.check_property(property) do
        :ok -> {:cont, :ok}
        error -> {:halt, error}
      end
    end)
  end

  # Keep the last value written for each property, ordered by that last write.
  defp last_occurrences(properties) do
    properties
    |> Enum.reverse()
    |> Enum.uniq_by(fn {property, _} -> property end)
    |> Enum.reverse()
  end

  defp notify(state, property, old, new, old_ts, new_ts) do
    message = {state.table, property, old, new, %{old_timestamp: old_ts, new_timestamp: new_ts}}

    Registry.dispatch(registry(state.table), :subscriptions, fn entries ->
      for {pid, pattern} <- entries, Matcher.matches?(pattern, property), do: send(pid, message)
    end)
  end
end
