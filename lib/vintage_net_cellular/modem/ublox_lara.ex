defmodule VintageNetCellular.Modem.UbloxLara do
  @moduledoc """
  u-blox TOBY-L2, TOBY-R2, LARA-R2 and LARA-R6.

  * TOBY-L2 (1546:1141 default, 1546:1143 ECM, 1546:1146 RNDIS), TOBY-R2 (1546:1107) and LARA-R2
    (1546:110a) expose CDC-ACM ports (`cdc_acm`, ttyACM*). The port table only
    marks their diagnostic/SAP ports as unused; the AT ports come from the
    interface-class fallback (CDC-ACM ports are AT ports): the lowest-numbered
    one is the primary AT port and the next one carries PPP.
  * LARA-R6 (05c6:908b and 05c6:90fa, Qualcomm ids) exposes vendor-class
    ports on the `option` driver: 01 primary AT port, 02 secondary AT port
    (PPP). 05c6:90fa is from Linux's `option` driver table and the interface
    list of the patch that added it (0 diagnostics, 1 and 2 AT, 3 QMI),
    kept in `data/usb_modem_ports_supplement.json`.
  """
  use VintageNetCellular.ModemProfile

  @lara_r6 [{0x05C6, 0x908B}, {0x05C6, 0x90FA}]
  @toby_l2 [{0x1546, 0x1141}, {0x1546, 0x1143}, {0x1546, 0x1146}]

  @impl true
  def name(), do: "u-blox TOBY/LARA"

  # +CIEV: indicator events (signal, service, SIM), as u-blox sends them.
  @impl true
  def urc_prefixes(), do: ["+CIEV:"]

  @impl true
  def usb_ids() do
    [{0x1546, 0x1107}, {0x1546, 0x110A}] ++ @toby_l2 ++ @lara_r6
  end

  # TOBY-L2 and LARA-R6 have ECM and RNDIS compositions (AT+UUSBCONF); the
  # TOBY-R2 and LARA-R2 don't.
  @impl true
  def usb_net_functions(usb_id, cid) when usb_id in @toby_l2 or usb_id in @lara_r6,
    do: VintageNetCellular.ModemProfile.UsbNet.ublox([:ecm, :rndis], cid)

  def usb_net_functions(_usb_id, _cid), do: []

  @impl true
  def port_table_plugins(), do: ["ublox"]

  @impl true
  def kernel_options(),
    do: ["CONFIG_PPP", "CONFIG_PPP_ASYNC", "CONFIG_USB_ACM", "CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_OPTION"]

  @impl true
  def serial_driver(usb_id) when usb_id in @lara_r6, do: :option
  def serial_driver(_usb_id), do: :cdc_acm

  # The LARA-R6's Qualcomm id is newer than many kernels' option driver.
  @impl true
  def driver_lists_usb_id?(usb_id) when usb_id in @lara_r6, do: false
  def driver_lists_usb_id?(_usb_id), do: true

  # Connection manager commands (u-blox's AT commands manual): AT+CCID (the
  # default) reads the ICCID.

  @impl true
  def radio_settings(radio_technologies), do: VintageNetCellular.ModemProfile.Commands.ublox_urat(radio_technologies)
end
