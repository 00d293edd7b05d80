defmodule VintageNetCellular.Bench.SimulatedPort do
  @moduledoc """
  The start the ATPort benches share: a simulated EC25 with its own signal
  changes off, an `VintageNetCellular.ATPort` on its AT pty (with the bench's
  options), open and answering `AT`.
  """

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Test.Simulator

  @doc "Returns `{simulator, at_port}`; raises if the port doesn't open within 2 s."
  @spec start(keyword()) :: {pid(), pid()}
  def start(at_port_opts \\ []) do
    {:ok, sim} = Simulator.start_link(["--seed", "1"])
    :ok = Simulator.control(sim, "signal auto off")
    {:ok, at} = ATPort.start_link([tty: Simulator.ports(sim).at] ++ at_port_opts)
    await_open(at)
    # The benches measure their own subscribers only.
    :ok = ATPort.unsubscribe(at, <<0>>)
    {:ok, _} = ATPort.command(at, "AT")
    {sim, at}
  end

  @doc """
  Waits for `at` to open its tty (subscribing the caller to its status
  messages); raises if it doesn't within `timeout_ms`.
  """
  @spec await_open(GenServer.server(), timeout()) :: :ok
  def await_open(at, timeout_ms \\ 2_000) do
    :ok = ATPort.subscribe(at, <<0>>)

    unless ATPort.status(at) == :opened do
      receive do
        {ATPort, _, :opened} -> :ok
      after
        timeout_ms -> raise "the AT port on #{inspect(at)} did not open within #{timeout_ms} ms"
      end
    end

    :ok
  end
end
