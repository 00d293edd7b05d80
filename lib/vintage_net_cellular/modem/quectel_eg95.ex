defmodule VintageNetCellular.Modem.QuectelEG95 do
  @moduledoc """
  Quectel EG95 (2c7c:0195), LTE Cat 4.

  The USB layout and commands are the Quectel family's
  (`VintageNetCellular.Modem.Quectel`).
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte, usb_net: [:ecm]

  @impl true
  def name(), do: "Quectel EG95"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0195}]
end
