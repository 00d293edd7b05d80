defmodule VintageNetCellular.DataPath do
  @moduledoc """
  The seam between the connection manager and the way data flows once the
  modem is registered: PPP over a serial port today
  (`VintageNetCellular.DataPath.PPP`); a USB network function or a
  multiplexed UART channel are other implementations of the same behaviour.

  The connection manager (`VintageNetCellular.Connection`) decides *when*
  the data path starts, stops or is checked; the data path knows *how*: the
  programs it runs, the devices it holds, and what its own exits mean. The
  manager keeps the data path's state opaque and passes it back on each call,
  with a `t:context/0` that says which interface, modem and provider it
  serves.

  A data path reports the link itself (addresses, DNS) by its own means (for
  PPP, pppd's ip-up/ip-down scripts through `VintageNetCellular.PPP.Notifier`);
  `c:foreign_event?/2` tells the manager which of those reports are stale.

  The life of a data path, as the manager drives it:

      path = Mod.new()
      path = Mod.cleanup(path, ctx)      # at start: what a killed manager left
      Mod.exiting?(path)                 # wait before starting a new one
      {:ok, path} = Mod.start(path, ctx)
      :ok = Mod.check(path, ctx)         # at each modem check
      Mod.owns?(path, monitor_ref)       # a :DOWN of its process
      path = Mod.stop(path, ctx)
  """

  @typedoc "A data path's own state, opaque to the manager."
  @type state() :: term()

  @typedoc """
  What a data path serves: the interface, its settings (`VintageNetCellular.Interface`),
  the normalized config, the modem and provider the manager chose, the
  worker supervisor to start programs under, and the PDP context to use.
  """
  @type context() :: %{
          required(:ifname) => String.t(),
          required(:settings) => map(),
          required(:config) => map(),
          required(:modem) => map(),
          required(:provider) => map() | nil,
          required(:workers) => GenServer.server(),
          required(:cid) => pos_integer(),
          optional(:net) => %{kind: atom(), netdev: String.t(), function: map()} | nil
        }

  @doc "A state with nothing running."
  @callback new() :: state()

  @doc """
  Ends what a previous owner of this interface left running (a manager that
  was killed may have left its programs behind). What was ended is waited
  for through `c:exiting?/1`.
  """
  @callback cleanup(state(), context()) :: state()

  @doc "Starts the data path (dialing, for PPP). Never blocks for long."
  @callback start(state(), context()) :: {:ok, state()} | {:error, String.t()}

  @doc "Stops it. What is still exiting is waited for through `c:exiting?/1`."
  @callback stop(state(), context()) :: state()

  @doc "Whether it was started and has not stopped or exited."
  @callback running?(state()) :: boolean()

  @doc """
  Whether what was stopped last is still exiting: the next start, or an AT
  port on the same tty, must wait.
  """
  @callback exiting?(state()) :: boolean()

  @doc """
  Checks a running data path against the world: `{:failed, reason}` when its
  program is gone without a word, or it holds a device that is no longer the
  modem's.
  """
  @callback check(state(), context()) :: :ok | {:failed, String.t()}

  @doc "Whether a `:DOWN` with this monitor reference is the data path's process."
  @callback owns?(state(), reference()) :: boolean()

  @doc "The state after its process ended, and why it ended, in words."
  @callback exited(state(), term()) :: {String.t(), state()}

  @doc "Whether a link report (up or down) comes from something other than the running data path."
  @callback foreign_event?(state(), map()) :: boolean()

  @typedoc "What the manager tells users about the data path (its `reason` property)."
  @type moment() :: :starting | :up | :down | :timeout | :start_failed

  @doc """
  The words for a moment of the data path's life, for the `reason`
  property: `:starting` (with the provider), `:up` (with the link event),
  `:down`, `:timeout` (with the seconds waited) and `:start_failed` (with
  the reason).
  """
  @callback describe(moment(), term()) :: String.t()
end
