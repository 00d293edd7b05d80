defmodule VintageNetCellular.Connection.Log do
  @moduledoc """
  The log lines of an interface's connection manager and of the modules it
  works through (`VintageNetCellular.Connection.BringUp`,
  `VintageNetCellular.Connection.Link`): each starts with the library's name
  and the interface.

      iex> data = %{ifname: "ppp0", last_failure: nil}
      iex> data = VintageNetCellular.Connection.Log.log_once(data, :no_sim, "no SIM")
      iex> data.last_failure
      :no_sim
  """

  require Logger

  @doc "Logs `message` for the interface of `data` (a map with `ifname`)."
  @spec log(%{required(:ifname) => String.t(), optional(atom()) => term()}, Logger.level(), String.t()) :: :ok
  def log(%{ifname: ifname}, level, message) do
    Logger.log(level, "[vintage_net_cellular] #{ifname}: #{message}")
  end

  @doc """
  A failure that repeats at every retry: logged as a warning the first time
  (`reason` is kept in `data.last_failure`), at debug level after that.
  """
  @spec log_once(map(), term(), String.t()) :: map()
  def log_once(%{last_failure: reason} = data, reason, message) do
    log(data, :debug, message)
    data
  end

  def log_once(data, reason, message) do
    log(data, :warning, message)
    %{data | last_failure: reason}
  end
end
