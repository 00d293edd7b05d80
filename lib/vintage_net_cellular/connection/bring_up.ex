defmodule VintageNetCellular.Connection.BringUp do
  @moduledoc """
  The AT bring-up plan: what the connection manager
  (`VintageNetCellular.Connection`) sends to a claimed modem before it waits
  for the registration, and what it makes of the answers.

  In order:

  1. the set-up line (`ATE0;+CMEE=2;` and the profile's init commands), tried
     three times in all, the last two step by step; a single-port modem that
     doesn't answer gets `{:escape, data}` back (it may be in data mode: see
     `escape/1`);
  2. on a modem with one serial port, the 27.010 multiplexer when `cmux`
     asks for it (`enter_mux/1`): the profile's `AT+CMUX` command, then
     the port program opens the channels and offers the data channel on a
     pty (`mux` in the data: its path, which pppd gets); a modem that refuses
     `AT+CMUX` is used without it (PPP takes the port, as before), and is not
     asked again;
  3. the IMEI check when `imei` is pinned (the IMEI comes from the property
     monitor, which reads the identity anyway);
  3. the SIM: one compound line checks it and reads the ICCID, the IMSI, the
     PDP contexts and which are active; a SIM that isn't simply ready goes step
     by step (`VintageNetCellular.Connection.SIM` decides: unlock, locked,
     absent, wait);
  4. the service provider for the ICCID (`VintageNetCellular.ServiceProviders`);
  5. a data call left up on the context to dial is ended (the profile's
     `c:VintageNetCellular.ModemProfile.end_call/1`);
  6. the PDP context: read-compare-write (`VintageNetCellular.Connection.PDP`);
  7. the roaming and radio settings of the profile, each read first and
     written only when it differs;
  8. the data path (`VintageNetCellular.Connection.UsbNet` decides): PPP, the
     modem's USB network function (`net` in the data), or a switch of its USB
     composition, after which the modem restarts and enumerates again
     (`{:reenumerate, reason, data}`).

  `run/1` blocks for as long as the modem takes (up to a command timeout per
  line): the manager runs it as a step in a task and stays free to answer
  `status/1`, URCs and the modem check meanwhile. The result says what to do
  next; the fields the plan changes come back in the data
  (`failures`, `pin_tried`, `iccid`, `provider`, `last_failure`).

  It writes the properties it owns: `sim`, `iccid`, `imsi`, `apn`.
  """

  import VintageNetCellular.Connection.Log, only: [log: 3, log_once: 3]

  alias VintageNetCellular.AT
  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Config
  alias VintageNetCellular.Connection.Compound
  alias VintageNetCellular.Connection.ModemSelect
  alias VintageNetCellular.Connection.PDP
  alias VintageNetCellular.Connection.SIM
  alias VintageNetCellular.Connection.UsbNet
  alias VintageNetCellular.Discovery
  alias VintageNetCellular.Interface
  alias VintageNetCellular.ModemProfile
  alias VintageNetCellular.ModemProfile.Commands
  alias VintageNetCellular.Monitor
  alias VintageNetCellular.Monitor.Identity
  alias VintageNetCellular.PinLedger
  alias VintageNetCellular.PropertyWriter
  alias VintageNetCellular.ServiceProviders

  @typedoc "The connection manager's data (the keys listed in `run/1`)."
  @type data :: map()

  @typedoc "What the bring-up came to."
  @type result ::
          {:ok, data()}
          | {:escape, data()}
          | {:retry | :locked | :unresponsive | :skip_modem | :reenumerate, String.t(), data()}

  # The fields of the manager's data that this plan changes.
  @changes [:failures, :pin_tried, :iccid, :provider, :last_failure, :net, :mux]

  # How long the port program may take to open the multiplexer's channels
  # (it retries each SABM 3 times, 1 s apart).
  @mux_start_ms 12_000

  # V.250's default escape guard time (S12 = 50, in fiftieths of a second).
  @escape_guard_ms 1_000

  @doc "The fields of the manager's data that `run/1` may change."
  @spec changes() :: [atom()]
  def changes, do: @changes

  @doc "The guard time of silence before `+++` (V.250's default), in ms."
  @spec escape_guard_ms() :: pos_integer()
  def escape_guard_ms, do: @escape_guard_ms

  @doc """
  The bring-up on `data` (the connection manager's data: `ifname`, `config`,
  `settings`, `modem`, `at_port`, `monitor`, `pin_tried`, `escape_tried?`,
  `failures`, `last_failure`). Blocks for as long as the modem takes: run it
  off the state machine (the manager runs it as a step under its worker
  supervisor).
  """
  @spec run(data()) :: result()
  def run(data) do
    with {:ok, data} <- init_modem(data),
         :ok <- modem_initialized(data),
         {:ok, data} <- enter_mux(data),
         {:ok, data} <- check_imei(data),
         {:ok, data, contexts} <- check_sim_and_read(data),
         {:ok, data} <- choose_provider(data),
         {:ok, data} <- end_call_left_up(data, contexts),
         {:ok, data} <- write_pdp_context(data, contexts),
         {:ok, data} <- apply_radio_settings(data) do
      choose_data_path(data)
    end
  end

  # The multiplexer (3GPP TS 27.010) on a modem whose AT and PPP share one
  # tty: AT keeps working while PPP is up. Entered once per port program
  # (a retry with it up goes on); the answer to mux_start comes to the
  # ATPort's subscribers, this step among them while it waits.
  defp enter_mux(data) do
    cmux = profile_call(data, :cmux, [], nil)
    refused_key = {:cmux_refused, data.modem.at_tty}

    cond do
      not mux_wanted?(data, cmux) ->
        {:ok, Map.put(data, :mux, nil)}

      is_binary(Map.get(data, :mux)) ->
        {:ok, data}

      Interface.recall(data.ifname, refused_key, false) ->
        {:ok, Map.put(data, :mux, nil)}

      true ->
        case command(data, cmux.command) do
          {:ok, _} ->
            start_mux(data, cmux.n1)

          {:error, reason} when reason in [:closed, :timeout] ->
            {:retry, "#{cmux.command}: #{format_error(reason)}", data}

          error ->
            Interface.remember(data.ifname, refused_key, true)

            data =
              log_once(
                data,
                {:cmux_refused, cmux.command},
                "the modem refused #{cmux.command} (#{format_error(error)}): PPP will take its only port, " <>
                  "and AT (signal, at/3) pauses while connected"
              )

            {:ok, Map.put(data, :mux, nil)}
        end
    end
  end

  defp mux_wanted?(%{modem: %{ppp_tty: nil}, config: config}, %{default?: default?}) do
    case Map.get(config, :cmux, :auto) do
      true -> true
      false -> false
      :auto -> default?
    end
  end

  defp mux_wanted?(_data, _cmux), do: false

  defp start_mux(%{at_port: {_ref, pid}} = data, n1) do
    :ok = ATPort.subscribe(pid, <<0>>)

    case ATPort.mux_start(pid, n1) do
      :ok -> await_mux(data)
      {:error, reason} -> {:retry, "the multiplexer could not start: #{format_error(reason)}", data}
    end
  catch
    :exit, reason -> {:retry, "the multiplexer could not start: #{inspect(reason)}", data}
  end

  defp start_mux(data, _n1), do: {:retry, "the multiplexer could not start: no AT port", data}

  defp await_mux(data) do
    receive do
      {ATPort, _server, {:mux_up, data_tty}} when is_binary(data_tty) ->
        log(data, :info, "the 27.010 multiplexer is up: AT on its channel 1, PPP on #{data_tty} (channel 2)")
        {:ok, Map.put(data, :mux, data_tty)}

      {ATPort, _server, {:mux_down, reason}} when is_binary(reason) ->
        {:retry, "the multiplexer did not start: #{reason}", data}
    after
      @mux_start_ms -> {:retry, "the multiplexer did not start within #{div(@mux_start_ms, 1000)} s", data}
    end
  end

  # The modem may still be booting (or flushing garbage): the set-up is
  # tried three times in all, first as one compound line, then step by step
  # (which also finds out which init command the modem refuses).
  defp init_modem(data) do
    profile_init = profile_call(data, :init_commands, [], [])

    case command(data, Compound.line(Compound.init_commands(profile_init))) do
      {:ok, _} ->
        {:ok, %{data | failures: 0}}

      {:error, :closed} ->
        {:unresponsive, "the modem's AT port #{data.modem.at_tty} is closed", data}

      # No answer at all on the only port: it may be in data mode, with a
      # call a stopped pppd left up. Escape once per bring-up.
      {:error, :timeout} when data.modem.ppp_tty == nil and not data.escape_tried? ->
        {:escape, data}

      {:error, _} ->
        init_modem_step_by_step(data, profile_init, 2)
    end
  end

  # V.250: the escape is +++ between two guard times of silence (S12, 1 s by
  # default); the modem answers OK in online command mode, and ATH ends the
  # call. A modem that was not in data mode takes +++ as the start of a line
  # and gives ERROR or nothing, which the set-up's retries absorb.
  # ATH goes out even when the OK of +++ was missed: in command mode it is
  # harmless, and the set-up's AT+CGACT? check catches a call still up.
  @doc """
  The V.250 escape from data mode on a single-port modem: `+++` (the guard
  time of silence before it has passed already), then `ATH`; before them,
  where the modem may be multiplexed, the 27.010 close-down (written blind
  by the port program). Always `:ok`:
  whatever the modem answered, the bring-up that follows decides.
  """
  @spec escape(data()) :: :ok
  def escape(%{at_port: {_ref, pid}} = data) do
    # A modem that may be multiplexed (an earlier program or manager left it
    # in 27.010 mode, where plain AT is noise to it) gets the close-down
    # first; a modem in AT mode ignores it.
    _ = if mux_wanted?(data, profile_call(data, :cmux, [], nil)), do: ATPort.mux_stop(pid)

    escaped = ATPort.send_body(pid, "+++", @escape_guard_ms + data.settings.command_timeout)

    case {escaped, command(data, "ATH")} do
      {{:ok, _}, {:ok, _}} ->
        log(data, :info, "ended a data call left up on the modem's only port (+++, ATH)")

      {escaped, hung_up} ->
        log(
          data,
          :info,
          "+++ escape: #{format_result(escaped)}, ATH: #{format_result(hung_up)}; setting the modem up again"
        )
    end

    :ok
  catch
    :exit, _ -> :ok
  end

  def escape(_data), do: :ok

  defp format_result({:ok, _}), do: "OK"
  defp format_result(error), do: format_error(error)

  defp init_modem_step_by_step(data, profile_init, tries) do
    case first_answer(data, "ATE0", tries) do
      {:ok, _} ->
        _ = command(data, "AT+CMEE=2")

        Enum.each(profile_init, fn cmd ->
          case command(data, cmd) do
            {:ok, _} -> :ok
            error -> log(data, :warning, "#{redact(cmd)} failed: #{inspect(error)}")
          end
        end)

        {:ok, %{data | failures: 0}}

      {:error, :closed} ->
        {:unresponsive, "the modem's AT port #{data.modem.at_tty} is closed", data}

      {:error, reason} ->
        {:unresponsive, "the modem does not answer AT commands on #{data.modem.at_tty} (#{format_error(reason)})", data}
    end
  end

  defp first_answer(data, cmd, tries) do
    case command(data, cmd) do
      {:ok, _} = ok -> ok
      {:error, :closed} = closed -> closed
      _error when tries > 1 -> first_answer(data, cmd, tries - 1)
      error -> error
    end
  end

  # The property monitor, which starts beside the AT port, waits for the
  # modem's set-up (echo off, verbose errors) before it sends anything.
  defp modem_initialized(%{monitor: {_ref, pid}}), do: Monitor.modem_initialized(pid)
  defp modem_initialized(_data), do: :ok

  defp check_imei(%{config: %{imei: nil}} = data), do: {:ok, data}

  # The IMEI is the monitor's fact (it reads the identity once per modem):
  # asked of it, and read here only when there is no monitor to ask.
  defp check_imei(%{config: %{imei: wanted}} = data) do
    case imei(data) do
      {:ok, ^wanted} ->
        {:ok, data}

      {:ok, imei} ->
        {:skip_modem, "modem #{ModemSelect.describe(data.modem)} has IMEI #{imei}, not #{wanted}", data}

      {:error, error} ->
        {:retry, "could not read the IMEI (#{format_error(error)})", data}
    end
  end

  defp imei(%{monitor: {_ref, pid}} = data) do
    case Monitor.identity(pid, :imei, 2 * data.settings.command_timeout) do
      {:ok, imei} when is_binary(imei) -> {:ok, imei}
      _ -> read_imei(data)
    end
  catch
    # A monitor that died or doesn't answer in time: read it here.
    :exit, _ -> read_imei(data)
  end

  defp imei(data), do: read_imei(data)

  defp read_imei(data) do
    case command(data, "AT+CGSN") do
      {:ok, lines} when is_list(lines) ->
        case Identity.parse("imei", lines) do
          {:ok, imei} -> {:ok, imei}
          {:error, _} -> {:error, "no IMEI in the answer to AT+CGSN"}
        end

      error ->
        {:error, "AT+CGSN: #{format_error(error)}"}
    end
  end

  # One line checks the SIM and reads the ICCID, the IMSI and the PDP
  # contexts. Only a ready SIM with every command answered is taken from it;
  # anything else (no SIM, a PIN, a SIM still busy, a command the modem
  # refuses) goes step by step, which decides and reports as it always did.
  # Returns the contexts read, or nil when write_pdp_context must read them.
  defp check_sim_and_read(data) do
    line = Compound.line(Compound.sim_commands(iccid_command(data)))

    with {:ok, lines} <- command(data, line),
         {:ok, read} <- Compound.sim_read(lines),
         :ready <- SIM.status({:cpin, read.cpin}) do
      PropertyWriter.put(data.ifname, "sim", SIM.property(:ready))
      data = put_identity(data, read.iccid, read.imsi)
      {:ok, data, %{cgdcont: read.cgdcont, cgauth: read.cgauth, active_cids: read.active_cids}}
    else
      _not_simply_ready ->
        with {:ok, data} <- check_sim(data),
             {:ok, data} <- read_identity(data) do
          {:ok, data, nil}
        end
    end
  end

  defp check_sim(data) do
    case read_cpin(data) do
      {:ok, answer} ->
        status = SIM.status(answer)
        PropertyWriter.put(data.ifname, "sim", SIM.property(status))
        key = sim_key(data, status)
        pin = Config.sim_pin(data.config)
        # A PIN this SIM accepted before may be sent again (after a modem
        # reset); one that was rejected, or got no clear answer, never: not
        # by this manager, nor by one before it (the interface's memory),
        # nor before a reboot or reconfigure (PinLedger, per ICCID and PIN).
        tried = Map.get(data.pin_tried, key) || (pin && key && PinLedger.lookup(key, pin))

        case SIM.decide(status, pin, tried in [:sent, :wrong]) do
          :ready ->
            {:ok, data}

          {:unlock, pin} ->
            case SIM.check_attempts(read_pin_attempts(data)) do
              :ok -> unlock(data, key, pin)
              {:locked, reason} -> {:locked, reason, data}
            end

          {:locked, reason} ->
            {:locked, locked_reason(reason, tried), data}

          {:absent, reason} ->
            forget_sim(data.ifname)
            {:retry, reason, data}

          {:wait, reason} ->
            {:retry, reason, data}
        end

      {:error, reason} ->
        {:retry, "could not read the SIM state (AT+CPIN?: #{format_error(reason)})", data}
    end
  end

  defp read_cpin(data) do
    case command(data, "AT+CPIN?") do
      {:ok, lines} ->
        case Enum.find_value(lines, &parsed(&1, :cpin)) do
          %{state: state} -> {:ok, {:cpin, state}}
          nil -> {:error, "no +CPIN line in #{inspect(lines)}"}
        end

      {:error, {:cme_error, x}} ->
        {:ok, {:cme_error, cme_code(x)}}

      {:error, reason} ->
        {:error, reason}
    end
  end

  # The PIN attempts left, where the profile has a command that tells them;
  # nil when it doesn't, or the modem gave no answer.
  # The port program parsed the answer's lines already (ATPort.command_parsed/3).
  defp read_pin_attempts(%{at_port: {_ref, pid}} = data) do
    with command when is_binary(command) <- profile_call(data, :pin_attempts_command, [], nil),
         {:ok, lines} <- ATPort.command_parsed(pid, command, data.settings.command_timeout) do
      SIM.pin_attempts(for {_line, {:ok, parsed}} <- lines, do: parsed)
    else
      _ -> nil
    end
  catch
    :exit, _ -> nil
  end

  defp read_pin_attempts(_data), do: nil

  # The SIM a PIN was sent to: its ICCID when the modem tells it before the
  # unlock (most do), otherwise the modem (and this SIM slot) itself.
  defp sim_key(data, :pin_required) do
    case read_iccid(data) do
      {:ok, iccid} -> {:iccid, iccid}
      _ -> {:modem, data.modem.usb_path || data.modem.at_tty}
    end
  end

  defp sim_key(_data, _status), do: nil

  defp unlock(data, key, pin) do
    # Remember the attempt before sending it: whatever happens next, this PIN
    # is never sent to this SIM again.
    data = pin_tried(data, key, :sent)
    log(data, :info, "the SIM asks for its PIN; sending the configured sim_pin once")
    result = command(data, ~s(AT+CPIN="#{pin}"))

    cond do
      match?({:ok, _}, result) ->
        data = pin_tried(data, key, :accepted)
        check_sim_after_unlock(data)

      SIM.wrong_pin?(result) ->
        data = pin_tried(data, key, :wrong)
        PropertyWriter.put(data.ifname, "sim", :pin_required)
        log(data, :error, "the SIM rejected the configured sim_pin")

        case SIM.decide(:pin_required, pin, true) do
          {:locked, reason} -> {:locked, reason, data}
          _other -> {:locked, "The SIM rejected the configured sim_pin", data}
        end

      true ->
        {:locked,
         "The configured sim_pin was sent once but the modem gave no clear answer " <>
           "(#{format_error(result)}); it will not be sent again to this SIM. " <>
           "Check the SIM with VintageNetCellular.at(ifname, \"AT+CPIN?\")", data}
    end
  end

  # What became of the PIN sent to a SIM, also kept by the interface so that
  # a restarted manager never sends a refused PIN again.
  defp pin_tried(data, key, outcome) do
    pin_tried = Map.put(data.pin_tried, key, outcome)
    Interface.remember(data.ifname, :pin_tried, pin_tried)
    _ = PinLedger.record(key, Config.sim_pin(data.config), outcome)
    %{data | pin_tried: pin_tried}
  end

  # The SIM may take a moment after the PIN: when it isn't ready yet, the
  # set-up is retried after the backoff (no waiting here: nothing blocks the
  # state machine). The PIN is not sent again (it was accepted).
  defp check_sim_after_unlock(data) do
    case read_cpin(data) do
      {:ok, {:cpin, :ready}} ->
        PropertyWriter.put(data.ifname, "sim", :ready)
        {:ok, data}

      _other ->
        {:retry, "the SIM accepted the PIN but is not ready yet", data}
    end
  end

  defp locked_reason(reason, :sent) do
    "The configured sim_pin was sent once and the SIM still asks for a PIN; it will not be " <>
      "sent again to this SIM. " <> reason
  end

  defp locked_reason(reason, _tried), do: reason

  defp read_identity(data) do
    iccid =
      case read_iccid(data) do
        {:ok, iccid} -> iccid
        _ -> nil
      end

    imsi =
      case command(data, "AT+CIMI") do
        {:ok, lines} -> Compound.imsi(lines)
        _ -> nil
      end

    {:ok, put_identity(data, iccid, imsi)}
  end

  defp put_identity(data, iccid, imsi) do
    put_or_delete(data.ifname, "iccid", iccid)
    put_or_delete(data.ifname, "imsi", imsi)
    %{data | iccid: iccid}
  end

  defp iccid_command(data), do: profile_call(data, :iccid_command, [], "AT+CCID")

  defp read_iccid(data) do
    case command(data, iccid_command(data)) do
      {:ok, lines} ->
        case Compound.iccid(lines) do
          nil -> {:error, :no_iccid}
          iccid -> {:ok, iccid}
        end

      error ->
        error
    end
  end

  defp choose_provider(data) do
    case ServiceProviders.select(data.config.service_providers, data.iccid) do
      {:ok, provider} ->
        PropertyWriter.put(data.ifname, "apn", provider.apn)
        {:ok, %{data | provider: Config.runtime_provider(provider)}}

      {:error, :no_provider} ->
        PropertyWriter.delete(data.ifname, "apn")

        which =
          if data.iccid,
            do: "ICCID #{data.iccid} matches no only_iccid_prefixes",
            else: "the SIM's ICCID could not be read"

        {:retry,
         "No service provider for this SIM: #{which}, and there is no catch-all provider " <>
           "(one without only_iccid_prefixes). Add one, or a prefix for this SIM; retrying in case the SIM changes",
         %{data | provider: nil}}
    end
  end

  # A data call left up on the context to dial (a pppd that was stopped
  # without ending it, before a deconfigure, a restart or a crash) keeps the
  # PPP port in data mode: the dialer's AT would go unanswered and no dial would
  # ever succeed. The profile says how to end it; a failure is logged and the
  # setup goes on (the dial then fails and is retried).
  defp end_call_left_up(data, contexts) do
    cid = profile_call(data, :pdp_cid, [], 1)

    if cid in active_cids(data, contexts) do
      case profile_call(data, :end_call, [cid], ModemProfile.default_end_call(cid)) do
        {:at_port, [_ | _] = commands} ->
          log(data, :info, "a data call is still up on context #{cid}; ending it (#{Enum.join(commands, ", ")})")
          run_end_call(data, commands)

        other ->
          log(data, :warning, "#{inspect(data.modem.profile)}.end_call/1 gave #{inspect(other)}; the call stays up")
      end
    end

    {:ok, data}
  end

  defp active_cids(_data, %{active_cids: cids}), do: cids

  defp active_cids(data, _not_read) do
    case command(data, "AT+CGACT?") do
      {:ok, lines} -> Compound.active_cids(lines)
      _ -> []
    end
  end

  defp run_end_call(data, commands) do
    Enum.reduce_while(commands, :ok, fn cmd, :ok ->
      case command(data, cmd) do
        {:ok, _} ->
          {:cont, :ok}

        error ->
          # Info, not a warning: on LTE the default bearer shows the context
          # active without any call, and some modems refuse to deactivate it.
          log(data, :info, "#{redact(cmd)} failed (#{format_error(error)}); a data call may still be up")
          {:halt, :error}
      end
    end)
  end

  # The contexts come from the compound SIM line, or are read here.
  defp write_pdp_context(data, nil) do
    with {:ok, lines} <- command(data, "AT+CGDCONT?") do
      cgdcont = for line <- lines, ctx = parsed(line, :cgdcont), do: ctx

      cgauth =
        case command(data, "AT+CGAUTH?") do
          {:ok, lines} -> for line <- lines, auth = parsed(line, :cgauth), do: auth
          _ -> :unsupported
        end

      write_pdp_context(data, %{cgdcont: cgdcont, cgauth: cgauth})
    else
      error -> {:retry, "could not read the PDP contexts (AT+CGDCONT?: #{format_error(error)})", data}
    end
  end

  defp write_pdp_context(data, current) do
    cid = profile_call(data, :pdp_cid, [], 1)
    profile = data.modem.profile

    cgauth_fun =
      if function_exported?(profile, :cgauth_command, 4),
        do: &profile.cgauth_command/4,
        else: &PDP.cgauth_command/4

    case PDP.plan(current, data.provider, cid: cid, cgauth: cgauth_fun) do
      [] ->
        {:ok, data}

      plan ->
        log(data, :info, "writing the PDP context: #{PDP.describe(current, data.provider, cid: cid)}")
        run_pdp_plan(data, plan)
    end
  end

  defp run_pdp_plan(data, plan) do
    Enum.reduce_while(plan, {:ok, data}, fn cmd, acc ->
      case command(data, cmd) do
        {:ok, _} ->
          {:cont, acc}

        error ->
          # Never leave the radio off.
          _ = if cmd != "AT+CFUN=1", do: command(data, "AT+CFUN=1")
          {:halt, {:retry, "writing the PDP context failed (#{redact(cmd)}: #{format_error(error)})", data}}
      end
    end)
  end

  defp apply_radio_settings(data) do
    rats = data.config.only_radio_technologies
    radio = profile_call(data, :radio_settings, [rats], [])

    data =
      if rats != nil and radio == [] do
        log_once(
          data,
          {:rats, rats},
          "#{inspect(data.modem.profile)} has no setting for #{inspect(rats)}; the modem keeps its own"
        )
      else
        data
      end

    settings = profile_call(data, :roaming_settings, [data.provider.roaming_allowed?], []) ++ radio

    Enum.each(settings, fn {query, expected, set} ->
      unless reads_back?(data, query, expected), do: apply_setting(data, List.wrap(set))
    end)

    {:ok, data}
  end

  # Whether the modem already has a setting: `query` answered with a line
  # matching `expected` (a failed read counts as no).
  defp reads_back?(data, query, expected) do
    case command(data, query) do
      {:ok, lines} when is_list(lines) -> Commands.matches?(lines, expected)
      _ -> false
    end
  end

  defp apply_setting(data, commands) do
    Enum.reduce_while(commands, :ok, fn cmd, :ok ->
      case command(data, cmd) do
        {:ok, _} ->
          log(data, :info, "applied #{cmd}")
          {:cont, :ok}

        error ->
          log(data, :warning, "#{cmd} failed (#{format_error(error)}); the modem keeps its setting")
          {:halt, :error}
      end
    end)
  end

  # The data path. A fresh scan: the kernel binds a modem's interfaces one
  # after the other, and the net device may have come after the ttys the
  # modem was claimed by.
  defp choose_data_path(%{config: %{data_path: :ppp}} = data), do: {:ok, Map.put(data, :net, nil)}

  defp choose_data_path(data) do
    modem = data.modem
    usb_id = {Map.get(modem, :vendor_id), Map.get(modem, :product_id)}
    cid = profile_call(data, :pdp_cid, [], 1)
    switch_key = {:usb_net_switched, modem.usb_path}
    switched? = Interface.recall(data.ifname, switch_key, false)

    facts = %{
      path: data.config.data_path,
      functions: profile_call(data, :usb_net_functions, [usb_id, cid], []),
      net: current_net(data),
      driver?: &File.dir?(Path.join([data.settings.sysfs_root, "bus/usb/drivers", &1])),
      switched?: switched?
    }

    case UsbNet.choose(facts) do
      {:use, function, netdev} ->
        Interface.remember(data.ifname, switch_key, false)
        if switched?, do: read_back(data, function)
        {:ok, Map.put(data, :net, %{kind: function.kind, netdev: netdev, function: function})}

      {:switch, function} ->
        switch(data, function, switch_key)

      {:ppp, nil} ->
        {:ok, Map.put(data, :net, nil)}

      {:ppp, reason} ->
        level = if data.config.data_path == :usb_net, do: :warning, else: :info
        data = log_ppp_fallback(data, level, reason)
        {:ok, Map.put(data, :net, nil)}
    end
  end

  defp log_ppp_fallback(data, :warning, reason), do: log_once(data, {:usb_net, reason}, "using PPP: #{reason}")

  defp log_ppp_fallback(data, level, reason) do
    log(data, level, "using PPP: #{reason}")
    data
  end

  defp current_net(data) do
    found = Discovery.scan(data.settings.sysfs_root, profile: Map.get(data.config, :modem, :auto))

    case Enum.find(found, &(&1.usb_path == data.modem.usb_path)) do
      nil -> Map.get(data.modem, :net, [])
      device -> UsbNet.net_devices(device)
    end
  rescue
    _ -> Map.get(data.modem, :net, [])
  end

  # The composition setting is read first: a modem that has it already only
  # needs the restart. The switch is remembered (by the interface, across a
  # manager restart) before the modem goes away, so it is made once.
  defp switch(data, function, switch_key) do
    {query, expected, set} = function.enter
    name = UsbNet.kind_name(function)

    commands =
      if reads_back?(data, query, expected),
        do: function.restart,
        else: List.wrap(set) ++ function.restart

    Interface.remember(data.ifname, switch_key, true)
    log(data, :info, "switching the modem to its #{name} composition (#{Enum.join(commands, ", ")}); it restarts")

    Enum.reduce_while(commands, :ok, fn cmd, :ok ->
      case command(data, cmd) do
        {:ok, _} -> {:cont, :ok}
        # A modem that resets at once may close the port before its OK.
        {:error, reason} when reason in [:closed, :timeout] -> {:halt, :ok}
        error -> {:halt, {:error, cmd, error}}
      end
    end)
    |> case do
      :ok ->
        {:reenumerate, "switching the modem to its #{name} composition; waiting for it to come back", data}

      {:error, cmd, error} ->
        {:ok,
         log_ppp_fallback(data, :warning, "the modem refused #{cmd} (#{format_error(error)})") |> Map.put(:net, nil)}
    end
  end

  # After a switch, the setting read back proves the modem kept it.
  defp read_back(_data, %{enter: nil}), do: :ok

  defp read_back(data, %{enter: {query, expected, _set}} = function) do
    case command(data, query) do
      {:ok, lines} when is_list(lines) ->
        if Commands.matches?(lines, expected),
          do: log(data, :info, "the modem reads back its #{UsbNet.kind_name(function)} composition: the switch took"),
          else: log(data, :warning, "the modem has a #{function.driver} device but reads back #{inspect(lines)}")

      error ->
        log(data, :warning, "#{query} after the switch: #{format_error(error)}")
    end
  end

  @doc "Deletes what the bring-up published of a SIM (`iccid`, `imsi`, `apn`): it is gone."
  @spec forget_sim(String.t()) :: :ok
  def forget_sim(ifname), do: Enum.each(["iccid", "imsi", "apn"], &PropertyWriter.delete(ifname, &1))

  # Helpers

  defp command(%{at_port: nil}, _cmd), do: {:error, :closed}

  defp command(%{at_port: {_ref, pid}} = data, cmd) do
    ATPort.command(pid, cmd, data.settings.command_timeout)
  catch
    :exit, _ -> {:error, :closed}
  end

  defp parsed(line, kind) do
    case AT.parse(line) do
      {:ok, {^kind, fields}} -> fields
      _ -> nil
    end
  end

  defp cme_code(code) when is_integer(code), do: code

  defp cme_code(text) when is_binary(text) do
    case AT.parse("+CME ERROR: " <> text) do
      {:ok, {:cme_error, %{code: code}}} when is_integer(code) -> code
      _ -> text
    end
  end

  defp profile_call(%{modem: %{profile: profile}}, fun, args, default),
    do: ModemProfile.call(profile, fun, args, default)

  defp profile_call(_data, _fun, _args, default), do: default

  defp put_or_delete(ifname, key, nil), do: PropertyWriter.delete(ifname, key)
  defp put_or_delete(ifname, key, value), do: PropertyWriter.put(ifname, key, value)

  @doc false
  @spec format_error(term()) :: String.t()
  def format_error({:error, reason}), do: format_error(reason)
  def format_error({:cme_error, x}), do: "+CME ERROR: #{x}"
  def format_error({:cms_error, x}), do: "+CMS ERROR: #{x}"
  def format_error(reason) when is_atom(reason), do: Atom.to_string(reason)
  def format_error(reason) when is_binary(reason), do: reason
  def format_error(reason), do: inspect(reason)

  defp redact(cmd), do: VintageNetCellular.redact(cmd)
end
