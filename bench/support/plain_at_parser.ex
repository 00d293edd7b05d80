defmodule VintageNetCellular.Bench.PlainATParser do
  @moduledoc """
  A straightforward pure-Elixir AT line parser, written the way one would
  without a NIF (`:binary`/`String` functions, `Integer.parse/2`), for the
  benchmark to compare against `VintageNetCellular.AT.parse/1`.

  It covers the common forms of the benchmark's lines and gives the same
  results as the NIF for them; for anything else it returns `:unsupported` and
  the benchmark leaves that line out of the comparison.
  """

  @cpin %{
    "READY" => :ready,
    "SIM PIN" => :sim_pin,
    "SIM PUK" => :sim_puk,
    "NOT INSERTED" => :not_inserted,
    "NOT READY" => :not_ready
  }

  @cme %{3 => "operation not allowed", 10 => "SIM not inserted", 14 => "SIM busy", 30 => "no network service"}

  # Prefixes the NIF gives a typed kind; the plain parser calls the ones it
  # does not implement unsupported instead of unknown.
  @typed ~w(+CSQ +CESQ +CREG +CGREG +CEREG +C5GREG +COPS +CPIN +CCID +ICCID +QCCID +CICCID +CGDCONT +CGAUTH
            +QNWINFO +QCSQ +CPSI) ++ ["+CME ERROR", "+CMS ERROR"]

  @stats {:not_registered, :registered_home, :searching, :denied, :unknown, :registered_roaming, :sms_only_home,
          :sms_only_roaming, :emergency_only, :csfb_not_preferred_home, :csfb_not_preferred_roaming, :attached_rlos}

  @acts {:gsm, :gsm_compact, :utran, :gsm_egprs, :utran_hsdpa, :utran_hsupa, :utran_hsdpa_hsupa, :eutran, :ec_gsm_iot,
         :eutran_nb_s1, :eutra_5gcn, :nr_5gcn, :ng_ran, :eutra_nr}

  @doc "Parses a line, or returns `:unsupported`."
  @spec parse(binary()) :: {:ok, {atom(), map()}} | :unsupported
  def parse(line) do
    case :binary.split(String.trim(line), ":") do
      [prefix, rest] -> dispatch(String.upcase(prefix), split(String.trim(rest)))
      _ -> :unsupported
    end
  catch
    _, _ -> :unsupported
  end

  # Fields as {text, quoted?}
  defp split(""), do: []

  defp split(rest) do
    if String.contains?(rest, "\"") do
      split_quoted(rest, [])
    else
      for f <- :binary.split(rest, ",", [:global]), do: {String.trim(f), false}
    end
  end

  defp split_quoted(rest, acc) do
    case String.trim_leading(rest) do
      "\"" <> quoted ->
        [text, after_quote] = :binary.split(quoted, "\"")

        case String.trim_leading(after_quote) do
          "" -> Enum.reverse([{text, true} | acc])
          "," <> more -> split_quoted(more, [{text, true} | acc])
        end

      unquoted ->
        case :binary.split(unquoted, ",") do
          [last] -> Enum.reverse([{String.trim(last), false} | acc])
          [text, more] -> split_quoted(more, [{String.trim(text), false} | acc])
        end
    end
  end

  defp int({text, _}), do: String.to_integer(text)
  defp opt_int(nil), do: nil
  defp opt_int({"", _}), do: nil
  defp opt_int(f), do: int(f)
  defp opt_hex(nil), do: nil
  defp opt_hex({"", _}), do: nil
  defp opt_hex({text, _}), do: String.to_integer(text, 16)
  defp opt_str(nil), do: nil
  defp opt_str({"", _}), do: nil
  defp opt_str({text, _}), do: text
  defp act(nil), do: nil
  defp act({"", _}), do: nil
  defp act(f), do: elem(@acts, int(f))

  defp dispatch("+CSQ", [rssi, ber]), do: {:ok, {:csq, %{rssi: int(rssi), ber: int(ber)}}}

  defp dispatch("+CESQ", [a, b, c, d, e, f]) do
    {:ok, {:cesq, %{rxlev: int(a), ber: int(b), rscp: int(c), ecno: int(d), rsrq: int(e), rsrp: int(f)}}}
  end

  defp dispatch(prefix, fields) when prefix in ["+CREG", "+CGREG", "+CEREG"], do: reg(prefix, fields)

  defp dispatch("+COPS", [mode | more]) do
    format = opt_int(Enum.at(more, 0))
    operator = opt_str(Enum.at(more, 1))

    {mcc, mnc} =
      if format == 2 and operator != nil,
        do: {binary_part(operator, 0, 3), binary_part(operator, 3, byte_size(operator) - 3)},
        else: {nil, nil}

    {:ok,
     {:cops, %{mode: int(mode), format: format, operator: operator, act: act(Enum.at(more, 2)), mcc: mcc, mnc: mnc}}}
  end

  defp dispatch("+CPIN", [{code, _}]), do: {:ok, {:cpin, %{state: Map.fetch!(@cpin, String.upcase(code))}}}

  defp dispatch("+CME ERROR", [{text, false}]) do
    case Integer.parse(text) do
      {code, ""} -> {:ok, {:cme_error, %{code: code, message: Map.get(@cme, code)}}}
      _ -> :unsupported
    end
  end

  defp dispatch("+QCSQ", [{"LTE", true} | values]) do
    [rssi, rsrp, sinr, rsrq] = Enum.map(values, &int/1)
    sinr_db = round((sinr - 100) / 5)

    {:ok,
     {:qcsq,
      %{
        sysmode: "LTE",
        rssi: rssi,
        rsrp: rsrp,
        sinr: sinr_db,
        sinr_raw: sinr,
        rsrq: rsrq,
        rscp: nil,
        ecio: nil,
        values: [rssi, rsrp, sinr, rsrq]
      }}}
  end

  defp dispatch("+QNWINFO", [a, {op, _}, b, c]) do
    {:ok,
     {:qnwinfo,
      %{
        service: true,
        act: opt_str(a),
        operator: op,
        mcc: binary_part(op, 0, 3),
        mnc: binary_part(op, 3, byte_size(op) - 3),
        band: opt_str(b),
        channel: int(c)
      }}}
  end

  defp dispatch("+QCCID", [{iccid, false}]), do: {:ok, {:iccid, %{iccid: String.trim_trailing(iccid, "F")}}}

  defp dispatch("+" <> _ = prefix, fields) when prefix not in @typed do
    {:ok, {:unknown, %{prefix: prefix, fields: Enum.map(fields, &elem(&1, 0))}}}
  end

  defp dispatch(_, _), do: :unsupported

  defp reg(prefix, fields) do
    s =
      case fields do
        [_, {_, false}] -> 1
        [_, {_, false}, {_, true} | _] -> 1
        _ -> 0
      end

    rest = Enum.drop(fields, s + 1)
    stat = elem(@stats, int(Enum.at(fields, s)))
    lac = opt_hex(Enum.at(rest, 0))
    base = %{stat: stat, lac: lac, ci: opt_hex(Enum.at(rest, 1)), act: act(Enum.at(rest, 2))}

    case prefix do
      "+CREG" ->
        {:ok,
         {:creg, Map.merge(base, %{cause_type: opt_int(Enum.at(rest, 3)), reject_cause: opt_int(Enum.at(rest, 4))})}}

      "+CGREG" ->
        extra = %{
          rac: opt_hex(Enum.at(rest, 3)),
          cause_type: opt_int(Enum.at(rest, 4)),
          reject_cause: opt_int(Enum.at(rest, 5))
        }

        {:ok, {:cgreg, Map.merge(base, extra)}}

      "+CEREG" ->
        extra = %{
          tac: lac,
          cause_type: opt_int(Enum.at(rest, 3)),
          reject_cause: opt_int(Enum.at(rest, 4)),
          active_time: opt_str(Enum.at(rest, 5)),
          periodic_tau: opt_str(Enum.at(rest, 6))
        }

        {:ok, {:cereg, Map.merge(base, extra)}}
    end
  end
end
