defmodule VintageNetCellular.Monitor.Schedule do
  @moduledoc """
  When the monitor sends which AT commands: a pure timetable.

  Registration, and on modems that have them signal changes, arrive as URCs;
  this schedule only covers what can't be pushed. Times are monotonic
  milliseconds passed in by the caller, so tests run without waiting.

  | task | what it reads | when |
  |---|---|---|
  | `:setup` | turns on registration, signal and time URCs, reads registration, `+CSQ`, the profile's signal commands and network time once (one compound line) | at start, after a modem reset (`+CPIN: READY` URC), when the connection manager asks (`:recheck`); retried every `setup_retry_ms` until it worked |
  | `:identity` | `AT+CGMI`, `+CGMM`, `+CGMR`, `+CGSN` (only the ones not read yet) | at start; on failure after `identity_retry_ms`, doubling up to `identity_retry_max_ms`, until all are read |
  | `:signal` | the profile's signal commands (`+QCSQ`, `+CPSI?`, `+CESQ`), plus `+CSQ` when the modem doesn't push it | every `signal_poll_ms` after the setup, and `refresh_delay_ms` after a registration change (a cell change in the same network: at most once per `refresh_min_interval_ms`) |
  | `:cell` | while registered: the profile's cell commands (`+QNWINFO`, `+CPSI?`; the periodic run skips those the signal poll already reads); for a profile without any, one `AT+COPS?` that checks the operator | every `cell_poll_ms`, and like `:signal` after a registration change |
  | `:reject` | for each domain denied without a reject cause: `AT+CxREG=3`, `AT+CxREG?`, `AT+CxREG=2` (the cause comes only with `n=3`; `n=2` is put back) | `refresh_delay_ms` after a denial without a cause; not retried |
  | `:operator` | `+COPS` numeric and long name while registered | `refresh_delay_ms` after a new registration state or radio, and when the vendor report (or the `:cell` check) names another PLMN; on failure after `cell_poll_ms` |

  `refresh_delay_ms` merges the burst of `+CREG`/`+CGREG`/`+CEREG` URCs one
  change produces into one read.

  ## Configuration (defaults)

  * `signal_poll_ms` (30_000): keep it below the power manager's watchdog
    timeout (VintageNet's default is 60 s), since a signal reading is what
    pets it;
  * `cell_poll_ms` (60_000);
  * `identity_retry_ms` (1_000) and `identity_retry_max_ms` (60_000);
  * `setup_retry_ms` (5_000);
  * `refresh_delay_ms` (200);
  * `refresh_min_interval_ms` (10_000): the least time between two reads
    caused by cell changes in the same network.

      iex> alias VintageNetCellular.Monitor.Schedule
      iex> s = Schedule.new([], 0)
      iex> {tasks, s} = Schedule.take_due(s, 0)
      iex> tasks
      [:setup, :identity]
      iex> s = Schedule.done(s, :signal, :ok, 10)
      iex> Schedule.next_at(s)
      30_010
  """

  @defaults [
    signal_poll_ms: 30_000,
    cell_poll_ms: 60_000,
    identity_retry_ms: 1_000,
    identity_retry_max_ms: 60_000,
    setup_retry_ms: 5_000,
    refresh_delay_ms: 200,
    refresh_min_interval_ms: 10_000
  ]

  # Run order when several are due at once.
  @tasks [:setup, :identity, :signal, :reject, :operator, :cell]

  defstruct config: @defaults, due: %{}, identity_delay: nil, last_refresh: nil

  @typedoc "A unit of work of the monitor."
  @type task :: :setup | :identity | :signal | :reject | :operator | :cell

  @type t :: %__MODULE__{
          config: keyword(),
          due: %{optional(task()) => integer()},
          identity_delay: pos_integer(),
          last_refresh: integer() | nil
        }

  @doc "The default configuration."
  @spec defaults() :: keyword()
  def defaults, do: @defaults

  @doc """
  Checks and completes a configuration: every key must be a known one with a
  positive integer value.

      iex> VintageNetCellular.Monitor.Schedule.config!(signal_poll_ms: 5_000)[:cell_poll_ms]
      60_000
      iex> VintageNetCellular.Monitor.Schedule.config!(signal_poll_ms: 0)
      ** (ArgumentError) signal_poll_ms must be a positive integer (milliseconds), got: 0
  """
  @spec config!(keyword()) :: keyword()
  def config!(config) do
    Enum.each(config, fn {key, value} ->
      unless Keyword.has_key?(@defaults, key) do
        raise ArgumentError,
              "unknown monitor option #{inspect(key)}; known: #{Enum.map_join(@defaults, ", ", &elem(&1, 0))}"
      end

      unless is_integer(value) and value > 0 do
        raise ArgumentError, "#{key} must be a positive integer (milliseconds), got: #{inspect(value)}"
      end
    end)

    Keyword.merge(@defaults, config)
  end

  @doc """
  A new timetable: setup and identity are due at `now`. The setup reads
  the signal, so the first signal poll comes `signal_poll_ms` after it.
  """
  @spec new(keyword(), integer()) :: t()
  def new(config, now) do
    config = config!(config)

    %__MODULE__{
      config: config,
      due: %{setup: now, identity: now},
      identity_delay: config[:identity_retry_ms]
    }
  end

  @doc "Removes and returns (in run order) every task due at `now`."
  @spec take_due(t(), integer()) :: {[task()], t()}
  def take_due(schedule, now) do
    due = for task <- @tasks, at = schedule.due[task], at <= now, do: task
    {due, %{schedule | due: Map.drop(schedule.due, due)}}
  end

  @doc "When the next task is due (monotonic ms), or nil when nothing is planned."
  @spec next_at(t()) :: integer() | nil
  def next_at(%{due: due}) when due == %{}, do: nil
  def next_at(%{due: due}), do: due |> Map.values() |> Enum.min()

  @doc "How long to sleep from `now` until the next task: ms, or `:infinity`."
  @spec timeout(t(), integer()) :: non_neg_integer() | :infinity
  def timeout(%__MODULE__{} = schedule, now) when is_integer(now) do
    case next_at(schedule) do
      nil -> :infinity
      at -> max(at - now, 0)
    end
  end

  @doc """
  A task finished at `now` with `:ok` or `:error`; plans its next run.

      iex> alias VintageNetCellular.Monitor.Schedule
      iex> s = Schedule.new([identity_retry_ms: 100, identity_retry_max_ms: 300], 0)
      iex> {_, s} = Schedule.take_due(s, 0)
      iex> s = Schedule.done(s, :identity, :error, 0)
      iex> s.due.identity
      100
      iex> s = Schedule.done(s, :identity, :error, 100)
      iex> s.due.identity
      300
      iex> s = Schedule.done(s, :identity, :error, 300)
      iex> s.due.identity
      600
      iex> {[:identity], s} = Schedule.take_due(s, 600)
      iex> s = Schedule.done(s, :identity, :ok, 600)
      iex> Map.has_key?(s.due, :identity)
      false
  """
  @spec done(t(), task(), :ok | :error, integer()) :: t()
  # The setup read the signal: the next poll is a full interval away (or
  # sooner, when a registration change asked for one).
  def done(schedule, :setup, :ok, now), do: plan_earlier(schedule, :signal, now + schedule.config[:signal_poll_ms])
  def done(schedule, :setup, :error, now), do: plan(schedule, :setup, now + schedule.config[:setup_retry_ms])

  def done(schedule, :identity, :ok, _now), do: %{schedule | identity_delay: schedule.config[:identity_retry_ms]}

  def done(schedule, :identity, :error, now) do
    delay = schedule.identity_delay
    next = min(delay * 2, schedule.config[:identity_retry_max_ms])
    %{plan(schedule, :identity, now + delay) | identity_delay: next}
  end

  def done(schedule, :signal, _result, now), do: plan(schedule, :signal, now + schedule.config[:signal_poll_ms])
  def done(schedule, :cell, _result, now), do: plan(schedule, :cell, now + schedule.config[:cell_poll_ms])
  def done(schedule, :reject, _result, _now), do: schedule
  def done(schedule, :operator, :ok, _now), do: schedule
  def done(schedule, :operator, :error, now), do: plan(schedule, :operator, now + schedule.config[:cell_poll_ms])

  @doc """
  Reacts to an event at `now`:

  * `:registration_changed`: `:operator`, `:cell` and `:signal` run
    `refresh_delay_ms` later (or sooner if they were due sooner): a new cell
    means new measurements. With `same_network?: true` (only the cell or
    area changed) the operator is left out, and the read comes no sooner
    than `refresh_min_interval_ms` after the last one such a change planned.
    With `signal?: false` (the signal was just read) the signal is left out;
  * `:recheck`: `:setup` runs at once (the registration is read again);
  * `:operator_stale`: `:operator` runs at once;
  * `:denied`: `:reject` runs `refresh_delay_ms` later (or sooner if it was
    due sooner);
  * `:modem_reset`: `:setup` runs at once, `:identity` too
    when `identity_missing?` (the option) is true, and the backoff restarts.

      iex> alias VintageNetCellular.Monitor.Schedule
      iex> s = Schedule.new([], 0) |> Schedule.take_due(0) |> elem(1)
      iex> s = Schedule.trigger(s, :registration_changed, 1_000)
      iex> {s.due.operator, s.due.cell, s.due.signal}
      {1_200, 1_200, 1_200}
      iex> Schedule.trigger(s, :registration_changed, 1_100).due.operator
      1_200
      iex> Schedule.trigger(s, :denied, 2_000).due.reject
      2_200
      iex> s = Schedule.new([], 0) |> Schedule.take_due(0) |> elem(1)
      iex> s = Schedule.trigger(s, :registration_changed, 1_000, same_network?: true)
      iex> {s.due.cell, Map.has_key?(s.due, :operator)}
      {1_200, false}
      iex> {_, s} = Schedule.take_due(s, 1_200)
      iex> s = Schedule.done(s, :cell, :ok, 1_210)
      iex> Schedule.trigger(s, :registration_changed, 1_300, same_network?: true).due.cell
      11_200
  """
  @spec trigger(
          t(),
          :registration_changed | :operator_stale | :denied | :modem_reset | :recheck,
          integer(),
          keyword()
        ) :: t()
  def trigger(schedule, event, now, opts \\ [])

  def trigger(%__MODULE__{} = schedule, :registration_changed, now, opts) do
    config = schedule.config
    same_network? = Keyword.get(opts, :same_network?, false)
    at = now + config[:refresh_delay_ms]

    # Cell changes in the same network come at most once per
    # refresh_min_interval_ms (a storm of handovers must not become a storm
    # of reads); a new registration state or radio is read at once.
    at =
      if same_network? and schedule.last_refresh,
        do: max(at, schedule.last_refresh + config[:refresh_min_interval_ms]),
        else: at

    tasks = if same_network?, do: [:cell, :signal], else: [:operator, :cell, :signal]
    # signal?: false when the signal was just read (the monitor's set-up).
    tasks = if Keyword.get(opts, :signal?, true), do: tasks, else: tasks -- [:signal]
    planned = Enum.reduce(tasks, schedule, &plan_earlier(&2, &1, at))

    # A refresh already planned covers this change; only a newly planned one
    # starts the next minimum interval.
    if planned.due == schedule.due, do: schedule, else: %{planned | last_refresh: at}
  end

  def trigger(%__MODULE__{} = schedule, :recheck, now, _opts), do: plan(schedule, :setup, now)

  def trigger(%__MODULE__{} = schedule, :operator_stale, now, _opts), do: plan_earlier(schedule, :operator, now)

  def trigger(%__MODULE__{} = schedule, :denied, now, _opts),
    do: plan_earlier(schedule, :reject, now + schedule.config[:refresh_delay_ms])

  def trigger(%__MODULE__{} = schedule, :modem_reset, now, opts) do
    schedule = plan(schedule, :setup, now)

    if Keyword.get(opts, :identity_missing?, false) do
      %{plan(schedule, :identity, now) | identity_delay: schedule.config[:identity_retry_ms]}
    else
      schedule
    end
  end

  defp plan(%__MODULE__{due: due} = schedule, task, at), do: %{schedule | due: Map.put(due, task, at)}

  defp plan_earlier(%__MODULE__{due: due} = schedule, task, at) do
    case Map.get(due, task) do
      earlier when is_integer(earlier) and earlier <= at -> schedule
      _ -> plan(schedule, task, at)
    end
  end
end
