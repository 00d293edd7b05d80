defmodule VintageNetCellular.Test.Profiles do
  @moduledoc """
  Modem profiles written the way an application would write its own (outside
  `lib/`), for the discovery and end-to-end tests of user profiles.
  """

  defmodule QuectelX9 do
    @moduledoc """
    A Quectel module that neither the shipped profiles nor the port table
    know (2c7c:7f09, a made-up id), laid out like an EC25: 00 QCDM, 01 GPS,
    02 AT, 03 PPP, 04 QMI. Its profile gives the roles.
    """
    use VintageNetCellular.Modem.Quectel, radio: :lte

    @impl true
    def name(), do: "Quectel X9 (test)"

    @impl true
    def usb_ids(), do: [{0x2C7C, 0x7F09}]

    @impl true
    def port_roles({0x2C7C, 0x7F09}), do: %{0 => :qcdm, 1 => :gps, 2 => :at_primary, 3 => :ppp, 4 => :qmi}
  end

  defmodule Plain do
    @moduledoc """
    A profile of no family (`use VintageNetCellular.ModemProfile`) for a
    made-up id, 1d50:7f01.
    """
    use VintageNetCellular.ModemProfile

    @impl true
    def name(), do: "Plain (test)"

    @impl true
    def usb_ids(), do: [{0x1D50, 0x7F01}]

    @impl true
    def port_roles(_usb_id), do: %{2 => :at_primary, 3 => :ppp}
  end
end
