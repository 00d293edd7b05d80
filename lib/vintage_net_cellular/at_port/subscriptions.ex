defmodule VintageNetCellular.ATPort.Subscriptions do
  @moduledoc """
  Who wants which URCs: the pure bookkeeping behind `VintageNetCellular.ATPort.subscribe/2`.

  A subscriber is a pid with a monitor reference and a set of line prefixes.
  The empty prefix `""` matches every URC.

      iex> alias VintageNetCellular.ATPort.Subscriptions
      iex> subs = Subscriptions.new()
      iex> {:monitor, subs} = Subscriptions.add(subs, self(), "+CREG:")
      iex> subs = Subscriptions.monitored(subs, self(), make_ref())
      iex> {:ok, subs} = Subscriptions.add(subs, self(), "RING")
      iex> Subscriptions.matching(subs, "+CREG: 1")
      [self()]
      iex> Subscriptions.matching(subs, "+CSQ: 1,2")
      []
  """

  @typedoc "pid => {monitor reference (nil until monitored), prefixes}"
  @opaque t :: %{pid() => {reference() | nil, MapSet.t(String.t())}}

  @doc "No subscribers."
  @spec new() :: t()
  def new, do: %{}

  @doc """
  Adds `prefix` for `pid`. Returns `{:monitor, subs}` when `pid` is new and the
  caller must monitor it (then record the reference with `monitored/3`).
  """
  @spec add(t(), pid(), String.t()) :: {:ok | :monitor, t()}
  def add(subs, pid, prefix) when is_pid(pid) and is_binary(prefix) do
    case subs do
      %{^pid => {ref, prefixes}} -> {:ok, Map.put(subs, pid, {ref, MapSet.put(prefixes, prefix)})}
      _ -> {:monitor, Map.put(subs, pid, {nil, MapSet.new([prefix])})}
    end
  end

  @doc "Records the monitor reference of `pid`."
  @spec monitored(t(), pid(), reference()) :: t()
  def monitored(subs, pid, ref) do
    case subs do
      %{^pid => {_, prefixes}} -> Map.put(subs, pid, {ref, prefixes})
      _ -> subs
    end
  end

  @doc """
  Removes `prefix` for `pid`. Returns `{:demonitor, ref, subs}` when it was the
  pid's last prefix.

      iex> alias VintageNetCellular.ATPort.Subscriptions
      iex> ref = make_ref()
      iex> {:monitor, subs} = Subscriptions.add(Subscriptions.new(), self(), "RING")
      iex> subs = Subscriptions.monitored(subs, self(), ref)
      iex> {:demonitor, ^ref, subs} = Subscriptions.remove(subs, self(), "RING")
      iex> Subscriptions.pids(subs)
      []
  """
  @spec remove(t(), pid(), String.t()) :: {:ok, t()} | {:demonitor, reference() | nil, t()}
  def remove(subs, pid, prefix) do
    case subs do
      %{^pid => {ref, prefixes}} ->
        prefixes = MapSet.delete(prefixes, prefix)

        if MapSet.size(prefixes) == 0,
          do: {:demonitor, ref, Map.delete(subs, pid)},
          else: {:ok, Map.put(subs, pid, {ref, prefixes})}

      _ ->
        {:ok, subs}
    end
  end

  @doc "Forgets `pid` (it went down)."
  @spec drop(t(), pid()) :: t()
  def drop(subs, pid), do: Map.delete(subs, pid)

  @doc "The subscribers with a prefix that `line` starts with."
  @spec matching(t(), String.t()) :: [pid()]
  def matching(subs, line) do
    for {pid, {_ref, prefixes}} <- subs, starts_with_any?(line, prefixes), do: pid
  end

  defp starts_with_any?(line, prefixes) do
    Enum.reduce_while(prefixes, false, fn prefix, false ->
      size = byte_size(prefix)

      case line do
        <<^prefix::binary-size(size), _::binary>> -> {:halt, true}
        _ -> {:cont, false}
      end
    end)
  end

  @doc "Every subscriber."
  @spec pids(t()) :: [pid()]
  def pids(subs), do: Map.keys(subs)
end
