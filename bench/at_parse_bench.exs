# AT line parsing: the Rust NIF (VintageNetCellular.AT.parse/1) against a
# straightforward pure-Elixir parser of the same lines.
#
#     mix run bench/at_parse_bench.exs
#
# Prints figures only; nothing here asserts a timing. It does check that both
# parsers give the same result for every line the plain parser supports, so the
# comparison is between equal work.

Code.require_file("support/plain_at_parser.ex", __DIR__)

defmodule ATParseBench do
  alias VintageNetCellular.AT
  alias VintageNetCellular.Bench.PlainATParser, as: Plain

  # A realistic mix, weighted the way a connected Quectel/SIMCom modem talks:
  # registration URCs and signal reports dominate, identity lines are rare.
  @mix [
    {8, "+CSQ: 21,99\r\n"},
    {2, "+CSQ:17, 99"},
    {6, ~s(+CEREG: 1,"2D6F","7A3C110",7)},
    {3, ~s(+CEREG: 2,1,"2D6F","7A3C110",7)},
    {2, ~s(+CREG: 1,"00C3","0B2D3F0",7)},
    {2, "+CREG: 0,1"},
    {2, ~s(+CGREG: 2,1,"8BE3","00002B5D",3)},
    {4, ~s(+QCSQ: "LTE",-52,-81,195,-10)},
    {3, "+CESQ: 99,99,255,255,20,80"},
    {3, ~s(+COPS: 0,0,"AT&T",7)},
    {2, ~s(+COPS: 0,2,"310410",7)},
    {3, ~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110)},
    {3, ~s(+QIND: "csq",21,99)},
    {2, "+CPIN: READY"},
    {1, "+CME ERROR: 10"},
    {1, "+QCCID: 8901260852290847433F"},
    {2, "+CPSI: LTE,Online,310-410,0x4F1B,26140801,318,EUTRAN-BAND12,5110,3,3,-11,-88,-61,15"},
    {1, "^ICCID: 98101430121181157002"},
    {1, ~s(+CGDCONT: 1,"IPV4V6","hologram","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0)}
  ]

  def run do
    unless VintageNetCellular.Native.loaded?() do
      raise "the NIF is not loaded; run `mix compile` first"
    end

    lines = for {weight, line} <- @mix, _ <- 1..weight, do: line
    lines = shuffle(lines)

    common =
      for line <- lines, (plain = Plain.parse(line)) != :unsupported do
        nif = AT.parse(line)

        if nif != plain do
          raise "parsers disagree on #{inspect(line)}:\n  nif:   #{inspect(nif)}\n  plain: #{inspect(plain)}"
        end

        line
      end

    # Throughput: short runs of each parser, interleaved so that load from
    # other processes hits both alike; the median run of each is reported.
    trials = 15
    rounds = 300

    runs =
      for _ <- 1..trials, do: {ns_per_line(&AT.parse/1, common, rounds), ns_per_line(&Plain.parse/1, common, rounds)}

    nif_common = runs |> Enum.map(&elem(&1, 0)) |> median()
    plain_common = runs |> Enum.map(&elem(&1, 1)) |> median()
    nif_all = for(_ <- 1..trials, do: ns_per_line(&AT.parse/1, lines, rounds)) |> median()

    IO.puts(
      "AT.parse benchmark (OTP #{System.otp_release()}, Elixir #{System.version()}, #{:erlang.system_info(:schedulers)} schedulers)"
    )

    IO.puts(
      "mix: #{length(lines)} lines (#{length(@mix)} distinct), #{length(common)} also parsed by the plain parser\n"
    )

    IO.puts("throughput (median of #{trials} interleaved runs of #{rounds} rounds over the mix)")
    IO.puts("  NIF   AT.parse, common lines    #{fmt(nif_common)} ns/line")
    IO.puts("  plain Elixir,   common lines    #{fmt(plain_common)} ns/line")

    IO.puts(
      "  ratio plain / NIF               #{:erlang.float_to_binary(plain_common / nif_common, decimals: 2)}x  (goal >= 3x)"
    )

    IO.puts("  NIF   AT.parse, whole mix       #{fmt(nif_all)} ns/line\n")

    # Latency per call.
    overhead = percentiles(fn _ -> :ok end, lines, 50)
    nif = percentiles(&AT.parse/1, lines, 200)
    plain = percentiles(&Plain.parse/1, common, 200)

    IO.puts("latency per call (ns; each call timed alone, timer cost included)")
    IO.puts("                     p50       p99     p99.9       max")
    row("  empty call   ", overhead)
    row("  NIF AT.parse ", nif)
    row("  plain Elixir ", plain)

    IO.puts("\n  NIF p99 = #{:erlang.float_to_binary(nif.p99 / 1000, decimals: 2)} us  (goal < 50 us)")
  end

  defp ns_per_line(fun, lines, rounds) do
    # warm up
    Enum.each(lines, fun)
    n = length(lines) * rounds
    t0 = System.monotonic_time(:nanosecond)
    loop(fun, lines, rounds)
    (System.monotonic_time(:nanosecond) - t0) / n
  end

  defp loop(_fun, _lines, 0), do: :ok

  defp loop(fun, lines, k) do
    each(fun, lines)
    loop(fun, lines, k - 1)
  end

  defp each(_fun, []), do: :ok

  defp each(fun, [line | rest]) do
    fun.(line)
    each(fun, rest)
  end

  defp percentiles(fun, lines, rounds) do
    samples =
      for _ <- 1..rounds, line <- lines do
        t0 = System.monotonic_time(:nanosecond)
        fun.(line)
        System.monotonic_time(:nanosecond) - t0
      end

    sorted = Enum.sort(samples) |> List.to_tuple()
    n = tuple_size(sorted)
    at = fn q -> elem(sorted, min(n - 1, trunc(q * n))) end
    %{p50: at.(0.50), p99: at.(0.99), p999: at.(0.999), max: elem(sorted, n - 1)}
  end

  defp row(label, p) do
    cols = Enum.map([p.p50, p.p99, p.p999, p.max], &String.pad_leading(Integer.to_string(&1), 10))
    IO.puts(label <> Enum.join(cols))
  end

  defp median(xs), do: xs |> Enum.sort() |> Enum.at(div(length(xs), 2))

  defp fmt(x), do: :erlang.float_to_binary(x, decimals: 1) |> String.pad_leading(8)

  # Deterministic shuffle so runs compare.
  defp shuffle(list) do
    :rand.seed(:exsss, {1, 2, 3})
    Enum.shuffle(list)
  end
end

ATParseBench.run()
