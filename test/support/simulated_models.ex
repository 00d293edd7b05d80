defmodule VintageNetCellular.Test.SimulatedModels do
  @moduledoc """
  The simulator's models and the profile discovery gives each (by the USB id
  of its sysfs fixture), for the tests that go over every simulated model.

      iex> VintageNetCellular.Test.SimulatedModels.all()[:ec25]
      VintageNetCellular.Modem.QuectelEC25
  """

  @models %{
    ec25: VintageNetCellular.Modem.QuectelEC25,
    eg95: VintageNetCellular.Modem.QuectelEG95,
    ec21: VintageNetCellular.Modem.QuectelEC21,
    bg96: VintageNetCellular.Modem.QuectelBG96,
    sim7600: VintageNetCellular.Modem.SIMCom7600,
    sim7080: VintageNetCellular.Modem.SIMCom7080,
    a7600: VintageNetCellular.Modem.SIMComA7600,
    sim7672: VintageNetCellular.Modem.SIMComA7600,
    me910c1: VintageNetCellular.Modem.TelitME910,
    lara_r6: VintageNetCellular.Modem.UbloxLara,
    e3372: VintageNetCellular.Modem.HuaweiE3372
  }

  @doc "Model (the simulator's `--model`, as an atom) => profile module."
  @spec all() :: %{atom() => module()}
  def all(), do: @models
end
