defmodule VintageNetCellular.Statistics do
  @moduledoc """
  Publishes the PPP interface's transmit and receive counters as the
  `statistics` property, in the shape vintage_net_qmi gives it:

      %{
        timestamp: System.monotonic_time(),
        rx_bytes: 1_234_567, tx_bytes: 234_567,
        rx_packets: 2_345, tx_packets: 1_987,
        rx_errors: 0, tx_errors: 0,
        rx_drops: 0, tx_drops: 0
      }

  under `["interface", ifname, "mobile", "statistics"]`.

  The counters are the kernel's, read from
  `<sysfs_root>/class/net/<ifname>/statistics/` (`rx_bytes`, `tx_bytes`,
  `rx_packets`, `tx_packets`, `rx_errors`, `tx_errors`, `rx_dropped`,
  `tx_dropped`). `timestamp` is `System.monotonic_time/0` (native units) at
  the read, as in vintage_net_qmi. vintage_net_qmi's `tx_overflows` and
  `rx_overflows` come from the modem over QMI and have no PPP counterpart, so
  they are not in the map.

  ## When

  The connection manager starts this process when pppd reports ip-up and
  stops it when the link goes down, so the counters are read only while the
  link is up: once at once, then every `:interval` ms (the
  `:statistics_interval` setting, 30 s by default, see
  `VintageNetCellular.Interface.settings/1`). The last value stays in the
  table after the link goes down (the interface's down path removes it with
  the rest of the prefix); its `timestamp` says how old it is.

  ## Missing files

  Reading never fails: a counter whose file is missing or unreadable is
  `nil`, and when no counter can be read at all (the interface is gone) the
  property is not written.
  """
  use GenServer

  alias VintageNetCellular.PropertyWriter

  @counters [
    rx_bytes: "rx_bytes",
    tx_bytes: "tx_bytes",
    rx_packets: "rx_packets",
    tx_packets: "tx_packets",
    rx_errors: "rx_errors",
    tx_errors: "tx_errors",
    rx_drops: "rx_dropped",
    tx_drops: "tx_dropped"
  ]

  @default_interval 30_000

  @typedoc "The `statistics` value (counters are nil when their file can't be read)."
  @type t :: %{
          timestamp: integer(),
          rx_bytes: non_neg_integer() | nil,
          tx_bytes: non_neg_integer() | nil,
          rx_packets: non_neg_integer() | nil,
          tx_packets: non_neg_integer() | nil,
          rx_errors: non_neg_integer() | nil,
          tx_errors: non_neg_integer() | nil,
          rx_drops: non_neg_integer() | nil,
          tx_drops: non_neg_integer() | nil
        }

  @doc "The default polling interval in ms (30 s)."
  @spec default_interval() :: pos_integer()
  def default_interval, do: @default_interval

  @doc """
  Reads the counters of `ifname` under `sysfs_root` (`"/sys"` on a device).
  Returns the map without `:timestamp`, a counter being nil when its file is
  missing or doesn't hold a number, or nil when no counter could be read.

      iex> VintageNetCellular.Statistics.read("/nonexistent", "ppp0")
      nil
  """
  @spec read(String.t(), String.t()) :: %{atom() => non_neg_integer() | nil} | nil
  def read(sysfs_root, ifname) when is_binary(sysfs_root) and is_binary(ifname) do
    dir = Path.join([sysfs_root, "class", "net", ifname, "statistics"])
    counters = Map.new(@counters, fn {key, file} -> {key, read_counter(Path.join(dir, file))} end)

    if Enum.all?(counters, fn {_key, value} -> value == nil end), do: nil, else: counters
  end

  defp read_counter(path) do
    with {:ok, text} <- File.read(path),
         {value, ""} when value >= 0 <- Integer.parse(String.trim(text)) do
      value
    else
      _ -> nil
    end
  end

  @doc """
  Starts the poller. Options: `:ifname` (required), `:sysfs_root` (`"/sys"`),
  `:interval` (ms, `default_interval/0`).
  """
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @doc false
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(opts) do
    %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}, restart: :temporary}
  end

  @impl GenServer
  def init(opts) do
    state = %{
      ifname: Keyword.fetch!(opts, :ifname),
      sysfs_root: Keyword.get(opts, :sysfs_root, "/sys"),
      interval: Keyword.get(opts, :interval, @default_interval)
    }

    {:ok, state, {:continue, :poll}}
  end

  @impl GenServer
  def handle_continue(:poll, state), do: {:noreply, poll(state)}

  @impl GenServer
  def handle_info(:poll, state), do: {:noreply, poll(state)}
  def handle_info(_other, state), do: {:noreply, state}

  defp poll(state) do
    case read(state.sysfs_root, state.ifname) do
      nil -> :ok
      counters -> PropertyWriter.put(state.ifname, "statistics", Map.put(counters, :timestamp, System.monotonic_time()))
    end

    _ = Process.send_after(self(), :poll, state.interval)
    state
  end
end
