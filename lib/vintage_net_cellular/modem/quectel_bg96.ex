defmodule VintageNetCellular.Modem.QuectelBG96 do
  @moduledoc """
  Quectel BG96 (2c7c:0296), LTE Cat M1/NB1 with GSM fallback.

  The USB layout and commands are the Quectel family's
  (`VintageNetCellular.Modem.Quectel`); radio technologies are chosen with
  `AT+QCFG="iotopmode"` as well as `"nwscanmode"`.
  """
  use VintageNetCellular.Modem.Quectel, radio: :iot

  @impl true
  def name(), do: "Quectel BG96"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0296}]
end
