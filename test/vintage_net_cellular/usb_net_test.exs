defmodule VintageNetCellular.UsbNetTest do
  # The data-path choice (pure) and the profiles' USB network functions.
  use ExUnit.Case, async: true

  alias VintageNetCellular.Connection.UsbNet
  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.ModemProfile.Commands
  alias VintageNetCellular.ModemProfile.UsbNet, as: Functions

  doctest VintageNetCellular.Connection.UsbNet
  doctest VintageNetCellular.ModemProfile.UsbNet

  @ecm hd(Functions.quectel([:ecm], 1))
  @rndis hd(Functions.fixed_rndis(1))
  # `drivers:` in a case: :all, :none or the one driver the kernel has.
  defp facts(overrides) do
    {drivers, overrides} = Keyword.pop(overrides, :drivers, :all)

    driver? =
      case drivers do
        :all -> fn _ -> true end
        :none -> fn _ -> false end
        only -> &(&1 == only)
      end

    Map.merge(%{path: :usb_net, functions: [@ecm], net: [], driver?: driver?, switched?: false}, Map.new(overrides))
  end

  describe "choose/1" do
    # {facts, expected}, read top to bottom as a table.
    @cases [
      {[path: :ppp, net: [%{name: "usb0", driver: "cdc_ether"}]], {:ppp, nil}},
      {[path: :auto, functions: []], {:ppp, "the modem's profile has no USB network function"}},
      {[net: [%{name: "usb0", driver: "cdc_ether"}]], {:use, @ecm, "usb0"}},
      {[net: [%{name: "enx0242ac110002", driver: "cdc_ether"}], switched?: true], {:use, @ecm, "enx0242ac110002"}},
      # A QMI device of the same modem is not the ECM function.
      {[net: [%{name: "wwan0", driver: "qmi_wwan"}]], {:switch, @ecm}},
      {[], {:switch, @ecm}},
      {[switched?: true],
       {:ppp,
        "the modem was switched to ECM but no net device appeared after its restart: check that the cdc_ether driver binds it (CONFIG_USB_NET_CDCETHER)"}},
      {[drivers: :none],
       {:ppp, "the kernel has no driver for the modem's USB network function: cdc_ether (CONFIG_USB_NET_CDCETHER)"}},
      {[functions: [@rndis]],
       {:ppp,
        "the modem's RNDIS function has no net device: check that the rndis_host driver binds it (CONFIG_USB_NET_RNDIS_HOST)"}},
      {[functions: [@rndis], net: [%{name: "usb0", driver: "rndis_host"}]], {:use, @rndis, "usb0"}},
      # The first function whose driver the kernel has is the one switched to.
      {[functions: [@ecm, @rndis], drivers: "rndis_host"],
       {:ppp,
        "the modem's RNDIS function has no net device: check that the rndis_host driver binds it (CONFIG_USB_NET_RNDIS_HOST)"}}
    ]

    for {{overrides, expected}, i} <- Enum.with_index(@cases) do
      test "case #{i}: #{inspect(overrides, limit: 3) |> String.slice(0, 80)}" do
        assert UsbNet.choose(facts(unquote(Macro.escape(overrides)))) == unquote(Macro.escape(expected))
      end
    end
  end

  describe "profiles" do
    @families %{
      VintageNetCellular.Modem.QuectelEC25 => {{0x2C7C, 0x0125}, [:ecm]},
      VintageNetCellular.Modem.QuectelEG95 => {{0x2C7C, 0x0195}, [:ecm]},
      VintageNetCellular.Modem.QuectelEC21 => {{0x2C7C, 0x0121}, [:ecm]},
      VintageNetCellular.Modem.QuectelEG91 => {{0x2C7C, 0x0191}, [:ecm]},
      VintageNetCellular.Modem.QuectelEM05 => {{0x2C7C, 0x030E}, [:ecm]},
      VintageNetCellular.Modem.QuectelRM5xx => {{0x2C7C, 0x0800}, [:ecm]},
      VintageNetCellular.Modem.QuectelBG96 => {{0x2C7C, 0x0296}, []},
      VintageNetCellular.Modem.QuectelBG95 => {{0x2C7C, 0x0700}, []},
      VintageNetCellular.Modem.SIMCom7600 => {{0x1E0E, 0x9001}, [:ecm]},
      VintageNetCellular.Modem.SIMComA7600 => {{0x1E0E, 0x9011}, [:rndis]},
      VintageNetCellular.Modem.UbloxLara => {{0x1546, 0x1141}, [:ecm, :rndis]},
      VintageNetCellular.Modem.TelitLE910 => {{0x1BC7, 0x1031}, [:ecm]}
    }

    test "each family offers the functions the README's table gives, fastest first" do
      for {profile, {usb_id, kinds}} <- @families do
        functions = ModemProfile.call(profile, :usb_net_functions, [usb_id, 1], [])
        assert Enum.map(functions, & &1.kind) == kinds, inspect(profile)
      end

      # LARA-R6 has them too; the LARA-R2 and the Telit default composition don't.
      assert [_, _] = VintageNetCellular.Modem.UbloxLara.usb_net_functions({0x05C6, 0x908B}, 1)
      assert [] == VintageNetCellular.Modem.UbloxLara.usb_net_functions({0x1546, 0x110A}, 1)
      assert [] == VintageNetCellular.Modem.TelitLE910.usb_net_functions({0x1BC7, 0x1201}, 1)
    end

    test "every function names its driver, kernel option and commands, and its setting reads back what it writes" do
      for {profile, {usb_id, _}} <- @families,
          function <- ModemProfile.call(profile, :usb_net_functions, [usb_id, 3], []) do
        assert {function.driver, function.kernel_option} == Functions.driver(function.kind)
        assert function.kernel_option in Functions.kernel_options()

        assert Enum.all?(
                 function.connect ++ function.disconnect ++ function.restart ++ function.leave,
                 &String.starts_with?(&1, "AT")
               )

        case function.enter do
          nil ->
            assert function.restart == [] and function.leave == []

          {query, expected, set} ->
            assert String.starts_with?(query, "AT") and String.starts_with?(set, "AT")
            # The answer the modem gives once the function is selected matches;
            # the default's doesn't.
            assert Commands.matches?([selected_answer(set)], expected), "#{set} vs #{inspect(expected)}"
            refute Commands.matches?([default_answer(query)], expected), query
        end
      end
    end

    test "the PDP context id goes into the data call" do
      assert hd(Functions.quectel([:ecm], 3)).connect == ["AT+QNETDEVCTL=1,3,1"]
      assert hd(Functions.simcom_pid_ecm(2)).connect == ["AT$QCRMCALL=1,2"]
      assert hd(Functions.fixed_rndis(4)).connect == ["AT+CGACT=1,4"]
    end
  end

  # What each family's modem answers to its read, per the vendors' manuals.
  defp selected_answer(~s(AT+QCFG="usbnet",) <> code), do: ~s(+QCFG: "usbnet",#{code})
  defp selected_answer("AT+CUSBPIDSWITCH=" <> rest), do: "+CUSBPIDSWITCH: " <> hd(String.split(rest, ","))
  defp selected_answer(~s(AT+UUSBCONF=2,"ECM")), do: ~s(+UUSBCONF: 2,"ECM",,"0x1143")
  defp selected_answer(~s(AT+UUSBCONF=3,"RNDIS")), do: ~s(+UUSBCONF: 3,"RNDIS",,"0x1146")

  defp default_answer(~s(AT+QCFG="usbnet")), do: ~s(+QCFG: "usbnet",0)
  defp default_answer("AT+CUSBPIDSWITCH?"), do: "+CUSBPIDSWITCH: 9001"
  defp default_answer("AT+UUSBCONF?"), do: ~s(+UUSBCONF: 0,"",,"0x1141")
end
