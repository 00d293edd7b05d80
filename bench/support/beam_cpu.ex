defmodule VintageNetCellular.Bench.BeamCPU do
  @moduledoc """
  The BEAM's own CPU time, for the benches that give a cost per URC.
  """

  @doc """
  On-CPU time of every thread of this OS process, in ns (from
  /proc/self/task/*/schedstat): other programs, such as the simulator and the
  port program, are processes of their own and not counted.
  """
  @spec ns() :: non_neg_integer()
  def ns do
    for task <- File.ls!("/proc/self/task"), reduce: 0 do
      acc ->
        case File.read("/proc/self/task/#{task}/schedstat") do
          {:ok, text} -> acc + (text |> String.split() |> hd() |> String.to_integer())
          {:error, _} -> acc
        end
    end
  end
end
