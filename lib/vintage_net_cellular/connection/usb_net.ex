defmodule VintageNetCellular.Connection.UsbNet do
  @moduledoc """
  Which data path a claimed modem gets: PPP, or one of the USB network
  functions its profile offers (`c:VintageNetCellular.ModemProfile.usb_net_functions/2`).
  Pure: the bring-up (`VintageNetCellular.Connection.BringUp`) gathers the
  facts, asks `choose/2`, and carries the answer out.

  The facts:

  * `path`: the interface's `data_path` setting, `:ppp`, `:usb_net` or `:auto`;
  * `functions`: the profile's functions for the modem's USB id, fastest first;
  * `net`: the modem's net devices now, `[%{name: "usb0", driver: "cdc_ether"}]`
    (from discovery);
  * `driver?`: whether the kernel has a USB driver (`/sys/bus/usb/drivers/<name>`);
  * `switched?`: whether this interface already switched this modem's
    composition and no net device came of it yet.

  The answers:

  * `{:use, function, netdev}`: the modem has the function's net device now;
  * `{:switch, function}`: switch the composition (the modem restarts and
    enumerates again);
  * `{:ppp, reason}`: PPP, with the reason why not a USB network function
    (`nil` when PPP was asked for).

  A modem is switched at most once until a net device shows up: a modem that
  doesn't keep the setting, or a kernel that doesn't bind the new
  function, ends in PPP, never in a reset loop.

      iex> alias VintageNetCellular.Connection.UsbNet
      iex> [ecm] = VintageNetCellular.ModemProfile.UsbNet.quectel([:ecm], 1)
      iex> facts = %{path: :auto, functions: [ecm], net: [], driver?: fn _ -> true end, switched?: false}
      iex> UsbNet.choose(facts)
      {:switch, ecm}
      iex> UsbNet.choose(%{facts | net: [%{name: "usb0", driver: "cdc_ether"}]})
      {:use, ecm, "usb0"}
      iex> UsbNet.choose(%{facts | driver?: fn _ -> false end})
      {:ppp, "the kernel has no driver for the modem's USB network function: cdc_ether (CONFIG_USB_NET_CDCETHER)"}
  """

  alias VintageNetCellular.ModemProfile.UsbNet, as: Functions

  @typedoc "The facts `choose/1` decides on (see the moduledoc)."
  @type facts() :: %{
          path: :ppp | :usb_net | :auto,
          functions: [Functions.function_spec()],
          net: [%{name: String.t(), driver: String.t() | nil}],
          driver?: (String.t() -> boolean()),
          switched?: boolean()
        }

  @typedoc "What `choose/1` decides."
  @type choice() ::
          {:use, Functions.function_spec(), String.t()}
          | {:switch, Functions.function_spec()}
          | {:ppp, String.t() | nil}

  @doc "Decides the data path (see the moduledoc)."
  @spec choose(facts()) :: choice()
  def choose(%{path: :ppp}), do: {:ppp, nil}
  def choose(%{functions: []}), do: {:ppp, "the modem's profile has no USB network function"}

  def choose(facts) do
    present =
      Enum.find_value(facts.functions, fn function ->
        case Enum.find(facts.net, &(&1.driver == function.driver)) do
          %{name: name} -> {function, name}
          nil -> nil
        end
      end)

    case present do
      {function, name} ->
        {:use, function, name}

      nil ->
        case Enum.filter(facts.functions, &facts.driver?.(&1.driver)) do
          [] ->
            {:ppp,
             "the kernel has no driver for the modem's USB network function: " <>
               Enum.map_join(facts.functions, ", ", &"#{&1.driver} (#{&1.kernel_option})")}

          [%{enter: nil} = function | _] ->
            {:ppp,
             "the modem's #{kind_name(function)} function has no net device: " <>
               "check that the #{function.driver} driver binds it (#{function.kernel_option})"}

          [function | _] ->
            if facts.switched?,
              do:
                {:ppp,
                 "the modem was switched to #{kind_name(function)} but no net device appeared " <>
                   "after its restart: check that the #{function.driver} driver binds it (#{function.kernel_option})"},
              else: {:switch, function}
        end
    end
  end

  @doc """
  The modem's net devices as discovery reports them on its USB interfaces.

      iex> VintageNetCellular.Connection.UsbNet.net_devices(%{interfaces: [
      ...>   %{number: 2, driver: "option", net: []},
      ...>   %{number: 4, driver: "cdc_ether", net: ["usb0"]}]})
      [%{name: "usb0", driver: "cdc_ether"}]
  """
  @spec net_devices(map()) :: [%{name: String.t(), driver: String.t() | nil}]
  def net_devices(device) do
    for iface <- Map.get(device, :interfaces, []), name <- Map.get(iface, :net, []) || [] do
      %{name: name, driver: Map.get(iface, :driver)}
    end
  end

  @doc ~S"""
  The name users read for a function kind.

      iex> VintageNetCellular.Connection.UsbNet.kind_name(%{kind: :rndis})
      "RNDIS"
  """
  @spec kind_name(%{required(:kind) => Functions.kind(), optional(atom()) => any()}) :: String.t()
  def kind_name(%{kind: kind}), do: kind |> Atom.to_string() |> String.upcase()
end
