defmodule VintageNetCellular.Modem.HuaweiE3372 do
  @moduledoc """
  Huawei E3372 and other Huawei USB modems in modem ("stick") mode:
  12d1:1506 (E3372, E3276, E398, E353, E3131, MS2372, ...), 12d1:1001
  (E1550, E3531), 12d1:1436 (E173, E1750), 12d1:1465 (K3765), 12d1:1c05
  (E173s) and 12d1:14ac (E1820). The last two come from Linux's `option`
  driver table (`HUAWEI_PRODUCT_E173S`, `HUAWEI_PRODUCT_E14AC`).

  Most of them first enumerate as a virtual CD-ROM (e.g. 12d1:1f01,
  12d1:1446): usb_modeswitch switches them to these ids, and
  `VintageNetCellular.Diagnose` says so when it finds one.

  Huawei describes each vendor-class port by subclass and protocol, so the
  roles come from the interface-class fallback rather than a table: ff/01/02
  and ff/02/02 are AT ports (the "PCUI" port), ff/0x/01 is the modem port PPP
  dials on. Ports use the `option` driver; the NCM network interface
  (`huawei_cdc_ncm`) isn't needed for PPP.

  A Huawei modem in HiLink mode (e.g. 12d1:14dc) is a USB Ethernet device
  without AT ports and can't be used with PPP.
  """
  use VintageNetCellular.Modem.Huawei

  @impl true
  def name(), do: "Huawei E3372"

  @impl true
  def usb_ids() do
    [{0x12D1, 0x1001}, {0x12D1, 0x1436}, {0x12D1, 0x1465}, {0x12D1, 0x1506}, {0x12D1, 0x1C05}, {0x12D1, 0x14AC}]
  end
end
