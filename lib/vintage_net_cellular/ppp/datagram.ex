defmodule VintageNetCellular.PPP.Datagram do
  @moduledoc """
  Reads the datagram `cellular_port` (notifier mode) sends for one pppd script
  event.

  The datagram is one term in the Erlang external term format, written by
  `cellular_core::ppp_event` in Rust:

      %{format: 2, kind: :ip_up, program: "/tmp/vintage_net/ppp0.ip-up",
        args: ["ppp0", "/dev/ttyUSB3", ...], env: [{"DNS1", "8.8.8.8"}, ...],
        truncated: false, lossy: []}

  It is read with `:erlang.binary_to_term(bytes, [:safe])`, like the port
  program's frames: no NIF is involved, so pppd's events reach the BEAM even
  when the native library is missing or stale. Every field is then checked,
  because the bytes come from another OS process: a datagram is either a whole
  event of this format or an error, and nothing in between.

  Errors are `{:error, {reason, message}}` with `reason` one of:

  * `:empty`: no bytes;
  * `:too_large`: over #{32 * 1024} bytes, more than the notifier ever sends;
  * `:format`: a `format` this library does not read (a newer or older notifier);
  * `:malformed`: not a term, or a term of the wrong shape; the message names the field.

      iex> bytes = :erlang.term_to_binary(%{format: 2, kind: :ip_down, program: "ip-down",
      ...>   args: ["ppp0"], env: [{"IFNAME", "ppp0"}], truncated: false, lossy: []})
      iex> {:ok, %{kind: :ip_down, env: [{"IFNAME", "ppp0"}]}} = VintageNetCellular.PPP.Datagram.decode(bytes)
      iex> VintageNetCellular.PPP.Datagram.decode(:erlang.term_to_binary(%{format: 1}))
      {:error, {:format, "format 1, this library reads format 2"}}
      iex> VintageNetCellular.PPP.Datagram.decode(:erlang.term_to_binary(%{format: 2, kind: :ip_up}))
      {:error, {:malformed, "no program field"}}
  """

  # The layout's version; `cellular_core::ppp_event::FORMAT` in Rust.
  @format 2
  # `cellular_core::ppp_event::MAX_DATAGRAM`.
  @max_bytes 32 * 1024
  # Each is a literal here, so binary_to_term(.., [:safe]) finds the atom.
  @kinds [:ip_up, :ip_down, :ipv6_up, :ipv6_down]
  @fields [:format, :kind, :program, :args, :env, :truncated, :lossy]

  @typedoc "A datagram's term, every field checked."
  @type t :: %{
          format: pos_integer(),
          kind: :ip_up | :ip_down | :ipv6_up | :ipv6_down,
          program: String.t(),
          args: [String.t()],
          env: [{String.t(), String.t()}],
          truncated: boolean(),
          lossy: [String.t()]
        }

  @type reason :: :empty | :too_large | :format | :malformed

  @doc "The format this library reads."
  @spec format() :: pos_integer()
  def format, do: @format

  @doc "The largest datagram accepted, in bytes."
  @spec max_bytes() :: pos_integer()
  def max_bytes, do: @max_bytes

  @doc """
  Decodes and checks one datagram. See the module documentation for the
  errors.
  """
  @spec decode(binary()) :: {:ok, t()} | {:error, {reason(), String.t()}}
  def decode(<<>>), do: {:error, {:empty, "the datagram is empty"}}

  def decode(bytes) when byte_size(bytes) > @max_bytes,
    do: {:error, {:too_large, "#{byte_size(bytes)} bytes, the limit is #{@max_bytes}"}}

  def decode(bytes) when is_binary(bytes) do
    with {:ok, term} <- to_term(bytes),
         :ok <- check_format(term) do
      check_fields(term)
    end
  end

  defp to_term(bytes) do
    {term, used} = :erlang.binary_to_term(bytes, [:safe, :used])

    if used == byte_size(bytes),
      do: {:ok, term},
      else: malformed("#{byte_size(bytes) - used} bytes after the term")
  rescue
    ArgumentError -> malformed("not an Erlang term of this library's atoms (#{byte_size(bytes)} bytes)")
  end

  # The format first, so that another notifier version gets a clear "format"
  # error instead of a confusing field mismatch.
  defp check_format(%{format: @format}), do: :ok

  defp check_format(%{format: n}) when is_integer(n),
    do: {:error, {:format, "format #{n}, this library reads format #{@format}"}}

  defp check_format(term) when is_map(term), do: malformed("no format field")
  defp check_format(_term), do: malformed("not a map")

  defp check_fields(term) do
    with :ok <- only_known_fields(term),
         {:ok, kind} <- fetch(term, :kind),
         :ok <- check(kind in @kinds, "kind #{inspect(kind)} is not one of #{inspect(@kinds)}"),
         {:ok, program} <- fetch(term, :program),
         :ok <- check(is_binary(program), "program is not a string"),
         {:ok, args} <- fetch(term, :args),
         :ok <- check(strings?(args), "args is not a list of strings"),
         {:ok, env} <- fetch(term, :env),
         :ok <- check(pairs?(env), "env is not a list of {name, value} strings"),
         {:ok, truncated} <- fetch(term, :truncated),
         :ok <- check(is_boolean(truncated), "truncated is not a boolean"),
         {:ok, lossy} <- fetch(term, :lossy),
         :ok <- check(strings?(lossy), "lossy is not a list of strings") do
      {:ok, term}
    end
  end

  defp only_known_fields(term) do
    case Map.keys(term) -- @fields do
      [] -> :ok
      [key | _] -> malformed("unknown field #{inspect(key)}")
    end
  end

  defp fetch(term, key) do
    case Map.fetch(term, key) do
      {:ok, value} -> {:ok, value}
      :error -> malformed("no #{key} field")
    end
  end

  defp check(true, _message), do: :ok
  defp check(false, message), do: malformed(message)

  # Written out rather than Enum.all?/2, which raises on an improper list.
  defp strings?([]), do: true
  defp strings?([item | rest]) when is_binary(item), do: strings?(rest)
  defp strings?(_other), do: false

  defp pairs?([]), do: true
  defp pairs?([{name, value} | rest]) when is_binary(name) and is_binary(value), do: pairs?(rest)
  defp pairs?(_other), do: false

  defp malformed(message), do: {:error, {:malformed, message}}
end
