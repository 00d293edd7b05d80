defmodule VintageNetCellular.Modem.QuectelEC21 do
  @moduledoc """
  Quectel EC21 (2c7c:0121), LTE Cat 1.

  The USB layout and commands are the Quectel family's
  (`VintageNetCellular.Modem.Quectel`).
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte, usb_net: [:ecm]

  @impl true
  def name(), do: "Quectel EC21"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0121}]
end
