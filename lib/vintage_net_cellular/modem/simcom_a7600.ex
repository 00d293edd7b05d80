defmodule VintageNetCellular.Modem.SIMComA7600 do
  @moduledoc """
  SIMCom A7600 family (A7600E-H, A7602E-H), 1e0e:9011.

  Serial interfaces (from the port table): 02 not used, 04 primary AT port,
  05 PPP, on the `option` driver; interfaces 00/01 are RNDIS networking,
  which PPP doesn't need. A SIM7600 switched to its RNDIS composition
  reports the same id with the same layout, and is handled here too.

  Other ids of SIMCom's Cat-1 modules (A7670, SIM7672 and relatives) were
  not confirmed from the reference data and are not claimed here; such a
  modem can be used with `modem: VintageNetCellular.Modem.Generic` and
  explicit `at_tty`/`ppp_tty`.
  """
  use VintageNetCellular.Modem.SIMCom,
    iccid_command: "AT+CICCID",
    cgauth: :password_first,
    radio: :cnmp,
    signal_urc: true

  @impl true
  def name(), do: "SIMCom A7600"

  @impl true
  def usb_ids(), do: [{0x1E0E, 0x9011}]

  @impl true
  def optional_kernel_options(), do: ["CONFIG_USB_NET_RNDIS_HOST"]
end
