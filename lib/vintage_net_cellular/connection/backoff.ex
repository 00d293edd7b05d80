defmodule VintageNetCellular.Connection.Backoff do
  @moduledoc """
  Exponential backoff for the connection manager's retries.

  Every failed step waits before it is tried again: the first wait is `min`
  milliseconds, each further one doubles, up to `max`. A success resets it.
  The waits are deterministic (no jitter): each interface has its own modem,
  so there is no herd to spread out, and tests can predict them.

      iex> alias VintageNetCellular.Connection.Backoff
      iex> b = Backoff.new(1_000, 5_000)
      iex> {d1, b} = Backoff.next(b)
      iex> {d2, b} = Backoff.next(b)
      iex> {d3, b} = Backoff.next(b)
      iex> {d4, b} = Backoff.next(b)
      iex> [d1, d2, d3, d4]
      [1000, 2000, 4000, 5000]
      iex> b |> Backoff.reset() |> Backoff.next() |> elem(0)
      1000
  """

  @enforce_keys [:min, :max, :current]
  defstruct [:min, :max, :current, attempts: 0]

  @type t :: %__MODULE__{
          min: pos_integer(),
          max: pos_integer(),
          current: pos_integer(),
          attempts: non_neg_integer()
        }

  @doc "A backoff whose first wait is `min` ms and whose waits never exceed `max` ms."
  @spec new(pos_integer(), pos_integer()) :: t()
  def new(min, max) when is_integer(min) and is_integer(max) and min > 0 and max >= min do
    %__MODULE__{min: min, max: max, current: min}
  end

  @doc "The next wait in milliseconds and the advanced backoff."
  @spec next(t()) :: {pos_integer(), t()}
  def next(%__MODULE__{current: current, max: max} = b) do
    {current, %{b | current: min(current * 2, max), attempts: b.attempts + 1}}
  end

  @doc "Start again from the shortest wait (after a success)."
  @spec reset(t()) :: t()
  def reset(%__MODULE__{min: min} = b), do: %{b | current: min, attempts: 0}

  @doc "How many waits were handed out since the last reset."
  @spec attempts(t()) :: non_neg_integer()
  def attempts(%__MODULE__{attempts: attempts}), do: attempts
end
