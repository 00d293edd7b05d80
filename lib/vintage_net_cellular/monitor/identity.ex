defmodule VintageNetCellular.Monitor.Identity do
  @moduledoc """
  The modem's identity: the commands that read it and the parsing of their
  answers.

  | key | command | answer (examples) |
  |---|---|---|
  | `manufacturer` | `AT+CGMI` | `Quectel`, `SIMCOM INCORPORATED`, `+CGMI: "u-blox"` |
  | `model` | `AT+CGMM` | `EC25`, `SIMCOM_SIM7600G-H`, `+CGMM: A7672E` |
  | `revision` | `AT+CGMR` | `EC25EFAR06A06M4G`, `+CGMR: LE20B04SIM7600M22`, `Revision: 1951B08SIM7080` |
  | `imei` | `AT+CGSN` | `867962041234567`, `+CGSN: "867962041234567"` |

  These are 27.007 commands every profile answers, so they are not per
  profile. An answer may carry a `+CGMx:`/`+GMx:` echo of the command name,
  a `Revision:` label or quotes; those are removed. An IMEI must be 15
  digits (14 without its check digit, or a 16-digit IMEISV); anything else
  is refused, so a `+CME ERROR` text or garbage never becomes an IMEI.

      iex> VintageNetCellular.Monitor.Identity.parse("model", ["EC25"])
      {:ok, "EC25"}
      iex> VintageNetCellular.Monitor.Identity.parse("revision", ["+CGMR: LE20B04SIM7600M22"])
      {:ok, "LE20B04SIM7600M22"}
      iex> VintageNetCellular.Monitor.Identity.parse("imei", ["+CGSN: \\"867962041234567\\""])
      {:ok, "867962041234567"}
      iex> VintageNetCellular.Monitor.Identity.parse("imei", ["ERROR"])
      {:error, "AT+CGSN gave no IMEI: [\\"ERROR\\"]"}
  """

  @commands [
    {"manufacturer", "AT+CGMI"},
    {"model", "AT+CGMM"},
    {"revision", "AT+CGMR"},
    {"imei", "AT+CGSN"}
  ]

  @label ~r/^(?:\+C?G[MS][IMRN]|Revision|Manufacturer|Model|IMEI)\s*:\s*/i

  @doc "`[{key, command}]` in reading order."
  @spec commands() :: [{String.t(), String.t()}]
  def commands, do: @commands

  @doc "The command that reads `key`."
  @spec command(String.t()) :: String.t()
  def command(key), do: @commands |> List.keyfind(key, 0) |> elem(1)

  @doc """
  The value of `key` from the information lines of its command's `OK`
  answer, or `{:error, why}`.
  """
  @spec parse(String.t(), [String.t()]) :: {:ok, String.t()} | {:error, String.t()}
  def parse(key, lines) do
    value =
      lines
      |> Enum.map(&clean/1)
      |> Enum.find(&(&1 != ""))

    case {key, value} do
      {_, nil} ->
        {:error, "#{command(key)} gave no #{key}: #{inspect(lines)}"}

      {"imei", v} ->
        if v =~ ~r/^\d{14,16}$/,
          do: {:ok, v},
          else: {:error, "#{command(key)} gave no IMEI: #{inspect(lines)}"}

      {_, v} ->
        if String.printable?(v) and byte_size(v) <= 128,
          do: {:ok, v},
          else: {:error, "#{command(key)} gave an unreadable #{key}: #{inspect(lines)}"}
    end
  end

  defp clean(line) do
    line
    |> String.trim()
    |> String.replace(@label, "")
    |> String.trim()
    |> String.trim("\"")
    |> String.trim()
  end
end
