defmodule VintageNetCellular.PPP.DatagramTest do
  use ExUnit.Case, async: true

  alias VintageNetCellular.PPP.Datagram

  doctest Datagram

  # Captured from `cellular_port` run as ip-up (the Rust corpus test reads it too).
  @captured Path.expand("../../native/fuzz/corpus/ppp_event/ip_up_datagram", __DIR__)

  defp event(overrides \\ %{}) do
    Map.merge(
      %{
        format: 2,
        kind: :ip_up,
        program: "/tmp/vintage_net/ppp0.ip-up",
        args: ["ppp0", "/dev/ttyUSB3", "115200", "10.0.0.2", "10.64.64.64", "/tmp/vintage_net/ppp0.notify"],
        env: [{"DNS1", "8.8.8.8"}, {"IFNAME", "ppp0"}],
        truncated: false,
        lossy: []
      },
      overrides
    )
  end

  defp bytes(term), do: :erlang.term_to_binary(term)

  test "the datagram cellular_port sends decodes" do
    assert {:ok, datagram} = Datagram.decode(File.read!(@captured))
    assert datagram.kind == :ip_up
    assert datagram.format == Datagram.format()
    assert {"IFNAME", "ppp0"} in datagram.env
  end

  test "a well-formed event of each kind decodes to itself" do
    for kind <- [:ip_up, :ip_down, :ipv6_up, :ipv6_down] do
      term = event(%{kind: kind})
      assert Datagram.decode(bytes(term)) == {:ok, term}
    end
  end

  # {what, bytes, reason, a part of the message}
  @bad [
    {"no bytes", "", :empty, "empty"},
    {"over the limit", :binary.copy(<<0>>, 32 * 1024 + 1), :too_large, "32769 bytes"},
    {"not a term", <<0xC1, 0xFF, 0x00>>, :malformed, "not an Erlang term"},
    {"MessagePack (format 1)", <<0x92, 0x01>>, :malformed, "not an Erlang term"},
    {"an atom the VM does not know", <<131, 119, 12, "not_an_atom9">>, :malformed, "not an Erlang term"},
    {"trailing bytes", :erlang.term_to_binary(%{format: 2}) <> "xx", :malformed, "2 bytes after the term"},
    {"not a map", :erlang.term_to_binary([1, 2]), :malformed, "not a map"},
    {"no format", :erlang.term_to_binary(%{kind: :ip_up}), :malformed, "no format field"},
    {"another format", :erlang.term_to_binary(%{format: 3, kind: :ip_up}), :format, "format 3"}
  ]

  for {what, bytes, reason, part} <- @bad do
    test "refuses #{what}" do
      assert {:error, {unquote(reason), message}} = Datagram.decode(unquote(bytes))
      assert message =~ unquote(part)
    end
  end

  test "every field is checked and named" do
    cases = [
      {%{kind: :ip_sideways}, "kind :ip_sideways"},
      {%{kind: "ip_up"}, "kind \"ip_up\""},
      {%{program: ~c"ip-up"}, "program is not a string"},
      {%{args: "ppp0"}, "args is not a list of strings"},
      {%{args: ["ppp0", 1]}, "args is not a list of strings"},
      {%{args: ["ppp0" | "tail"]}, "args is not a list of strings"},
      {%{env: [{"A"}]}, "env is not a list of {name, value} strings"},
      {%{env: [{"A", 1}]}, "env is not a list of {name, value} strings"},
      {%{truncated: nil}, "truncated is not a boolean"},
      {%{lossy: [:x]}, "lossy is not a list of strings"},
      {%{extra: 1}, "unknown field :extra"}
    ]

    for {override, part} <- cases do
      assert {:error, {:malformed, message}} = Datagram.decode(bytes(event(override))), inspect(override)
      assert message =~ part, "#{inspect(override)}: #{message}"
    end

    for field <- [:kind, :program, :args, :env, :truncated, :lossy] do
      assert Datagram.decode(bytes(Map.delete(event(), field))) == {:error, {:malformed, "no #{field} field"}}
    end
  end

  test "mutated datagrams give an event or a named error, never an exception" do
    seed = :erlang.phash2(make_ref())
    :rand.seed(:exsss, {seed, 7, 11})
    good = [File.read!(@captured), bytes(event()), bytes(event(%{kind: :ipv6_down, lossy: ["argv[2]"]}))]

    outcomes =
      for _ <- 1..3_000, reduce: %{} do
        acc ->
          mutated = mutate(Enum.random(good))

          result =
            try do
              Datagram.decode(mutated)
            rescue
              e -> flunk("seed #{seed}: #{inspect(mutated)} raised #{Exception.message(e)}")
            end

          key =
            case result do
              {:ok, %{format: 2, kind: kind}} when kind in [:ip_up, :ip_down, :ipv6_up, :ipv6_down] -> :ok
              {:error, {reason, message}} when reason in [:empty, :malformed, :format] and is_binary(message) -> reason
              other -> flunk("seed #{seed}: #{inspect(mutated)} gave #{inspect(other)}")
            end

          Map.update(acc, key, 1, &(&1 + 1))
      end

    # Both outcomes happen, so the mutations reach past the term decoder.
    assert outcomes[:malformed] > 0, "seed #{seed}: #{inspect(outcomes)}"
    assert outcomes[:ok] > 0, "seed #{seed}: #{inspect(outcomes)}"
  end

  defp mutate(bytes) do
    size = byte_size(bytes)
    at = :rand.uniform(size) - 1

    case :rand.uniform(4) do
      1 -> binary_part(bytes, 0, at)
      2 -> flip(bytes, at)
      3 -> binary_part(bytes, 0, at) <> <<:rand.uniform(256) - 1>> <> binary_part(bytes, at, size - at)
      # A printable byte inside a string rarely breaks the term: those decode.
      4 -> replace(bytes, at, Enum.random(~c"abcxyz019"))
    end
  end

  defp flip(bytes, at) do
    <<head::binary-size(at), byte, rest::binary>> = bytes
    <<head::binary, Bitwise.bxor(byte, Bitwise.bsl(1, :rand.uniform(8) - 1))::8, rest::binary>>
  end

  defp replace(bytes, at, new) do
    <<head::binary-size(at), byte, rest::binary>> = bytes
    if byte in ?a..?z, do: <<head::binary, new, rest::binary>>, else: bytes
  end
end
