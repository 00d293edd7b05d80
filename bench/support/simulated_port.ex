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
    wait_open(at)
    {:ok, _} = ATPort.command(at, "AT")
    {sim, at}
  end

  defp wait_open(at, tries \\ 100) do
    cond do
      ATPort.status(at) == :opened -> :ok
      tries == 0 -> raise "the simulator's AT port did not open"
      true -> Process.sleep(20) && wait_open(at, tries - 1)
    end
  end
end
