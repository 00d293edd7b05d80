defmodule VintageNetCellular.Modem.HuaweiME909 do
  @moduledoc """
  Huawei ME909u-521 (12d1:1573) and ME909s-120/ME906s (12d1:15c1), LTE
  mini-PCIe/LGA modules.

  Id source: Huawei's ME909u/ME909s documentation (vendor documents); the
  `option` driver binds every Huawei vendor-class interface, whatever the
  id. As on Huawei's USB sticks (`VintageNetCellular.Modem.HuaweiE3372`),
  the roles come from each port's subclass and protocol (the interface-class
  fallback): ff/0x/01 is the modem port PPP dials on, ff/0x/02 the AT
  ("PCUI") port. The NCM or ECM network interface isn't needed for PPP.

  Commands are Huawei's (`AT^ICCID?`, `AT^SYSCFGEX`).
  """
  use VintageNetCellular.Modem.Huawei

  @impl true
  def name(), do: "Huawei ME909"

  @impl true
  def usb_ids(), do: [{0x12D1, 0x1573}, {0x12D1, 0x15C1}]
end
