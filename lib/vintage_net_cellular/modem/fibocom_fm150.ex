defmodule VintageNetCellular.Modem.FibocomFM150 do
  @moduledoc """
  Fibocom FM150 (2cb7:0104), a Qualcomm-based 5G M.2 module, in its
  default (QMI) composition.

  Id and layout from the port table (ModemManager's Fibocom rules): 00
  QCDM, 01 primary AT port, 02 secondary AT port (PPP), 03 not used, on the
  `option` driver. Standard 3GPP commands.

  The Fibocom L850-GL (2cb7:0007, 8087:095a) is not claimed: it is an
  Intel XMM7360 whose data path is MBIM, with CDC-ACM AT ports that don't
  carry PPP.
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Fibocom FM150"

  @impl true
  def usb_ids(), do: [{0x2CB7, 0x0104}]

  # Newer than many kernels' option driver.
  @impl true
  def driver_lists_usb_id?(_usb_id), do: false
end
