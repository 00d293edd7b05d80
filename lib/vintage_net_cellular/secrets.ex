defmodule VintageNetCellular.Secrets do
  @moduledoc """
  Redaction by value: the configured SIM PIN, passwords and usernames never
  reach a log in clear, whatever code logs them.

  Pattern redaction (`VintageNetCellular.redact/1`) hides the arguments of
  known secret AT commands. It can't help when a secret shows up anywhere
  else: in a modem's echo, in a crash report that prints a process's state,
  in the output of pppd or its dialer, or in the port program's tracing. So
  `VintageNetCellular.to_raw_config/3` registers each interface's secret
  values here, before any of its processes start, and a Logger primary
  filter (installed at the same moment, and by the application) replaces
  every occurrence of a registered value with `<redacted>` in every log
  event of the VM, including crash reports.

  Values shorter than 4 bytes are not registered: redacting every "ab" in
  every log line would make logs unreadable, and such a value is no secret
  anyway. PINs (4 to 8 digits) are always long enough.

  The registry is a `:persistent_term` per interface, so it needs no process
  and is there at boot, before this library's application has started.
  Registering replaces the interface's previous values; there's no
  unregistering, since redacting a value that is no longer configured is
  harmless.

      iex> VintageNetCellular.Secrets.scrub("PIN 7315 sent", ["7315"])
      "PIN <redacted> sent"
      iex> VintageNetCellular.Secrets.scrub("nothing here", ["7315"])
      "nothing here"
  """

  @filter_id :vintage_net_cellular_secrets
  @min_length 4
  @redacted "<redacted>"

  @doc "The secret values of normalized `:vintage_net_cellular` options: PIN, usernames, passwords."
  @spec values(map()) :: [String.t()]
  def values(options) do
    pin = VintageNetCellular.Config.sim_pin(options)

    credentials =
      for provider <- Map.get(options, :service_providers, []),
          value <- [VintageNetCellular.Config.username(provider), Map.get(provider, :password)],
          is_binary(value),
          do: value

    [pin | credentials]
    |> Enum.filter(&(is_binary(&1) and byte_size(&1) >= @min_length))
    |> Enum.uniq()
  end

  @doc """
  Registers the secret values of `ifname` (replacing earlier ones) and makes
  sure the Logger filter is installed.
  """
  @spec register(String.t(), [String.t()]) :: :ok
  def register(ifname, values) do
    values = values |> Enum.filter(&(is_binary(&1) and byte_size(&1) >= @min_length)) |> Enum.uniq()
    key = {__MODULE__, ifname}

    if :persistent_term.get(key, nil) != values do
      :persistent_term.put(key, values)
      ifnames = :persistent_term.get({__MODULE__, :ifnames}, [])
      if ifname not in ifnames, do: :persistent_term.put({__MODULE__, :ifnames}, [ifname | ifnames])
    end

    install_filter()
  end

  @doc "Every registered secret value, longest first (so a value inside another can't leave part of it)."
  @spec all() :: [String.t()]
  def all do
    {__MODULE__, :ifnames}
    |> :persistent_term.get([])
    |> Enum.flat_map(&:persistent_term.get({__MODULE__, &1}, []))
    |> Enum.uniq()
    |> Enum.sort_by(&(-byte_size(&1)))
  end

  @doc """
  Normalized `:vintage_net_cellular` options with the PIN, usernames and
  passwords replaced by `"<redacted>"`, for `format_status/1` (what
  `:sys.get_status/1` and crash reports show of a process's state).

      iex> VintageNetCellular.Secrets.redact_options(%{sim_pin: %{password: "1234"}, service_providers: [%{apn: "a", username: %{password: "user"}, password: nil}]})
      %{sim_pin: %{password: "<redacted>"}, service_providers: [%{apn: "a", username: %{password: "<redacted>"}, password: nil}]}
  """
  @spec redact_options(map()) :: map()
  def redact_options(options) when is_map(options) do
    options
    |> Map.update(:sim_pin, nil, fn
      nil -> nil
      _pin -> %{password: @redacted}
    end)
    |> Map.update(:service_providers, [], fn providers ->
      Enum.map(providers, fn provider ->
        provider
        |> Map.update(:username, nil, fn
          %{password: _} -> %{password: @redacted}
          user when is_binary(user) -> @redacted
          other -> other
        end)
        |> Map.update(:password, nil, fn
          password when is_binary(password) -> @redacted
          other -> other
        end)
      end)
    end)
  end

  def redact_options(other), do: other

  @doc "`text` with every occurrence of each of `secrets` replaced by `<redacted>`."
  @spec scrub(String.t(), [String.t()]) :: String.t()
  def scrub(text, []), do: text
  def scrub(text, secrets), do: String.replace(text, secrets, @redacted)

  @doc "Installs the Logger primary filter (once; later calls do nothing)."
  @spec install_filter() :: :ok
  def install_filter do
    case :logger.add_primary_filter(@filter_id, {&__MODULE__.log_filter/2, []}) do
      :ok -> :ok
      {:error, {:already_exist, @filter_id}} -> :ok
      {:error, _other} -> :ok
    end
  end

  @doc """
  The Logger primary filter. It replaces every registered secret inside the
  event's message, whatever its form: a string, a format with its arguments,
  or a report (walked through maps, lists, tuples and strings, charlists
  included). The event keeps its form, so handlers and Elixir's translator
  treat it as before; an event without a secret passes unchanged. It never
  raises: Logger would remove a filter that does.
  """
  @spec log_filter(:logger.log_event(), any()) :: :logger.filter_return()
  def log_filter(%{msg: msg} = event, _extra) do
    case all() do
      [] ->
        event

      secrets ->
        case scrub_msg(msg, secrets) do
          ^msg -> event
          scrubbed -> %{event | msg: scrubbed}
        end
    end
  rescue
    _ -> event
  catch
    _, _ -> event
  end

  def log_filter(event, _extra), do: event

  # Whole text: a secret may span iodata fragments.
  defp scrub_msg({:string, chardata} = msg, secrets) do
    text = IO.chardata_to_string(chardata)
    if String.contains?(text, secrets), do: {:string, scrub(text, secrets)}, else: msg
  end

  defp scrub_msg({:report, report}, secrets), do: {:report, scrub_term(report, secrets)}
  defp scrub_msg({format, args}, secrets) when is_list(args), do: {format, Enum.map(args, &scrub_term(&1, secrets))}
  defp scrub_msg(other, _secrets), do: other

  @doc """
  `term` with every registered secret replaced inside its strings and
  charlists, at any depth of lists, tuples and maps (values; keys are kept).

      iex> VintageNetCellular.Secrets.scrub_term(%{cmd: ~c"AT+CPIN=7315", args: [{:pin, "7315"}]}, ["7315"])
      %{cmd: ~c"AT+CPIN=<redacted>", args: [{:pin, "<redacted>"}]}
  """
  @spec scrub_term(term(), [String.t()]) :: term()
  def scrub_term(term, secrets) when is_binary(term) do
    if String.valid?(term) and String.contains?(term, secrets), do: scrub(term, secrets), else: term
  end

  def scrub_term(term, secrets) when is_list(term) do
    if term != [] and :io_lib.printable_unicode_list(term) do
      string = List.to_string(term)
      if String.contains?(string, secrets), do: String.to_charlist(scrub(string, secrets)), else: term
    else
      scrub_list(term, secrets)
    end
  end

  def scrub_term(term, secrets) when is_tuple(term) do
    term |> Tuple.to_list() |> Enum.map(&scrub_term(&1, secrets)) |> List.to_tuple()
  end

  def scrub_term(term, secrets) when is_map(term), do: :maps.map(fn _k, v -> scrub_term(v, secrets) end, term)
  def scrub_term(term, _secrets), do: term

  # Lists may be improper (iodata tails): walk them by hand.
  defp scrub_list([head | tail], secrets), do: [scrub_term(head, secrets) | scrub_list(tail, secrets)]
  defp scrub_list([], _secrets), do: []
  defp scrub_list(tail, secrets), do: scrub_term(tail, secrets)
end
