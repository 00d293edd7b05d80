defmodule VintageNetCellular.Connection.Compound do
  @moduledoc """
  Several AT commands on one command line, as pure functions: building the
  line, and reading what the modem answered to it.

  V.250 and 3GPP TS 27.007 let one command line carry several commands
  (`AT+CPIN?;+CGDCONT?;+CEREG?`). The modem runs them in order and sends
  one final result for the whole line. Each command costs a round trip, so
  the connection manager checks the SIM, the PDP context and the
  registration with three lines instead of thirteen.

  The modem stops at the first command that fails, and the line's result is
  that error. The error does not say which command failed, and the
  information text of the commands that did run is lost. So a compound line
  that fails is never interpreted: the caller falls back to sending the
  commands one by one, which reports each failure exactly as before (a
  missing SIM is still `AT+CPIN?` answering `+CME ERROR: 10`).

  The line engine (`cellular_core`'s engine) takes the `+XXX:` prefix of
  every command on the line as the line's own, so all their information
  lines come back together from `VintageNetCellular.ATPort.command/3`. The
  readers here pick the lines out by what they are (`VintageNetCellular.AT.parse/1`),
  not by position.

      iex> alias VintageNetCellular.Connection.Compound
      iex> Compound.line(["ATE0", "AT+CMEE=2", ~s(AT+QURCCFG="urcport","usbat")])
      ~s(ATE0;+CMEE=2;+QURCCFG="urcport","usbat")
      iex> {:ok, read} = Compound.sim_read(["+CPIN: READY", "+QCCID: 89014108255360400713", "310410703935056",
      ...>   ~s(+CGDCONT: 1,"IP","internet","0.0.0.0",0,0,0,0)])
      iex> {read.cpin, read.iccid, read.imsi, read.cgdcont}
      {:ready, "89014108255360400713", "310410703935056", [%{cid: 1, pdp_type: "IP", apn: "internet"}]}
  """

  alias VintageNetCellular.AT
  alias VintageNetCellular.Connection.Registration

  @typedoc "What `sim_read/1` found in the answer to the `sim_commands/1` line."
  @type sim_read :: %{
          cpin: atom(),
          iccid: String.t() | nil,
          imsi: String.t() | nil,
          cgdcont: [map()],
          active_cids: [pos_integer()],
          cgauth: [map()]
        }

  @doc """
  One command line from several commands, each written as it would be sent
  alone (`"AT+CREG?"`). The `AT` of every command after the first is dropped,
  and the commands are separated by `;`.

  A dial (`ATD`) or a reset (`ATZ`, `AT&F`) can't be followed by anything,
  a bare `AT` adds nothing, and a command that isn't `AT...` (such as the
  repeat `A/`) is not one: these raise, naming the command.

      iex> VintageNetCellular.Connection.Compound.line(["AT+CREG=2", "AT+CREG?"])
      "AT+CREG=2;+CREG?"
      iex> VintageNetCellular.Connection.Compound.line(["AT+CSQ"])
      "AT+CSQ"
  """
  @spec line([String.t(), ...]) :: String.t()
  def line([_ | _] = commands) do
    last = length(commands) - 1

    bodies =
      commands
      |> Enum.with_index()
      |> Enum.map(fn {command, i} -> body!(command, i < last) end)

    "AT" <> Enum.join(bodies, ";")
  end

  def line(commands) do
    raise ArgumentError, "a compound line needs at least one command, got: #{inspect(commands)}"
  end

  defp body!(<<a, t, body::binary>> = command, followed?) when a in ~c"Aa" and t in ~c"Tt" do
    body = String.trim(body)

    cond do
      body == "" ->
        raise ArgumentError, "#{inspect(command)} is a bare AT: it adds nothing to a compound line"

      followed? and String.upcase(body) =~ ~r/\A(D|Z|&F)/ ->
        raise ArgumentError, "#{inspect(command)} can't be part of a compound line: nothing may follow it"

      true ->
        body
    end
  end

  defp body!(command, _followed?) do
    raise ArgumentError, "#{inspect(command)} is not an AT command (it must start with AT)"
  end

  @doc """
  The set-up line's commands: echo off, verbose errors (`+CMEE=2`), then the
  modem profile's own init commands.

      iex> VintageNetCellular.Connection.Compound.init_commands([])
      ["ATE0", "AT+CMEE=2"]
  """
  @spec init_commands([String.t()]) :: [String.t()]
  def init_commands(profile_init), do: ["ATE0", "AT+CMEE=2" | profile_init]

  @doc """
  The commands that check the SIM and read what the connection needs from
  it and from the modem's contexts: the SIM state, the ICCID (with the
  profile's command), the IMSI, the PDP contexts, which of them are active
  (a data call may have been left up) and their authentication.

  `AT+CGAUTH?` comes last: it is the one a modem may not know, and the
  others have run when it fails.

      iex> VintageNetCellular.Connection.Compound.sim_commands("AT+QCCID")
      ["AT+CPIN?", "AT+QCCID", "AT+CIMI", "AT+CGDCONT?", "AT+CGACT?", "AT+CGAUTH?"]
  """
  @spec sim_commands(String.t()) :: [String.t()]
  def sim_commands(iccid_command),
    do: ["AT+CPIN?", iccid_command, "AT+CIMI", "AT+CGDCONT?", "AT+CGACT?", "AT+CGAUTH?"]

  @doc """
  Reads the answer (information lines) to the `sim_commands/1` line.

  The `+CPIN:` line must be there; without it the answer is not understood
  and `{:error, reason}` says so (the caller then asks step by step). An
  ICCID or IMSI that isn't there is nil, as when read alone.

      iex> VintageNetCellular.Connection.Compound.sim_read(["+QCCID: 89014108255360400713"])
      {:error, "no +CPIN line in [\\"+QCCID: 89014108255360400713\\"]"}
  """
  @spec sim_read([String.t()]) :: {:ok, sim_read()} | {:error, String.t()}
  def sim_read(lines) do
    case Enum.find_value(lines, &fields(&1, :cpin)) do
      %{state: state} ->
        {:ok,
         %{
           cpin: state,
           iccid: iccid(lines),
           imsi: imsi(lines),
           cgdcont: for(line <- lines, ctx = fields(line, :cgdcont), do: ctx),
           active_cids: active_cids(lines),
           cgauth: for(line <- lines, auth = fields(line, :cgauth), do: auth)
         }}

      nil ->
        {:error, "no +CPIN line in #{inspect(lines)}"}
    end
  end

  @doc """
  The registration line's commands: URCs with location on for every domain,
  then one read of each (see `VintageNetCellular.Connection.Registration`).

      iex> VintageNetCellular.Connection.Compound.registration_commands()
      ["AT+CREG=2", "AT+CGREG=2", "AT+CEREG=2", "AT+CREG?", "AT+CGREG?", "AT+CEREG?"]
  """
  @spec registration_commands() :: [String.t()]
  def registration_commands, do: Registration.urc_commands() ++ registration_reads()

  @doc """
  The reads alone, for the checks while waiting for registration.

      iex> VintageNetCellular.Connection.Compound.registration_reads()
      ["AT+CREG?", "AT+CGREG?", "AT+CEREG?"]
  """
  @spec registration_reads() :: [String.t()]
  def registration_reads, do: for({_domain, command} <- Registration.read_commands(), do: command)

  @doc """
  The registration of each domain that `registration_reads/0` reads, from
  the information lines of a line holding them: the parsed answer, or nil
  for a domain that gave none.

      iex> VintageNetCellular.Connection.Compound.registration(["+CREG: 2,1", "+CEREG: 2,5"])
      ...> |> Map.new(fn {domain, fields} -> {domain, fields && fields.stat} end)
      %{creg: :registered_home, cgreg: nil, cereg: :registered_roaming}
  """
  @spec registration([String.t()]) :: %{atom() => map() | nil}
  def registration(lines) do
    for {domain, _command} <- Registration.read_commands(), into: %{} do
      {domain, Enum.find_value(lines, &fields(&1, domain))}
    end
  end

  @doc """
  The ICCID in the answer to an ICCID command: `+CCID:`, `+QCCID:`,
  `+ICCID:`, a prefix the parser doesn't know (Telit's `#CCID:`) or the bare
  digits (SIM7080). Nil when there is none.

      iex> VintageNetCellular.Connection.Compound.iccid(["#CCID: 89014108255360400713"])
      "89014108255360400713"
      iex> VintageNetCellular.Connection.Compound.iccid(["310410703935056"])
      nil
  """
  @spec iccid([String.t()]) :: String.t() | nil
  def iccid(lines), do: Enum.find_value(lines, &iccid_in/1)

  defp iccid_in(line) do
    case AT.parse(line) do
      {:ok, {:iccid, %{iccid: iccid}}} ->
        iccid

      _ ->
        digits = line |> String.split(":") |> List.last() |> String.trim() |> String.trim("\"")

        if Regex.match?(~r/\A[0-9]{18,22}[Ff]?\z/, digits) do
          case AT.parse("+CCID: " <> digits) do
            {:ok, {:iccid, %{iccid: iccid}}} -> iccid
            _ -> nil
          end
        end
    end
  end

  @doc """
  The IMSI in the answer to `AT+CIMI`: the line of 6 to 15 digits (an ICCID
  has 18 to 22, so the two can't be confused on one line). Nil when there is
  none.

      iex> VintageNetCellular.Connection.Compound.imsi(["89014108255360400713", "310410703935056"])
      "310410703935056"
  """
  @spec imsi([String.t()]) :: String.t() | nil
  def imsi(lines) do
    Enum.find_value(lines, fn line ->
      line = String.trim(line)
      if Regex.match?(~r/\A[0-9]{6,15}\z/, line), do: line
    end)
  end

  @doc """
  The context ids that `+CGACT:` lines (the answer to `AT+CGACT?`) show
  active, in order. Other lines, and `+CGACT:` lines that don't read as
  `<cid>,<state>`, are skipped.

      iex> VintageNetCellular.Connection.Compound.active_cids(["+CGACT: 1,1", "+CGACT: 2,0", "+CGACT: 3, 1", "+CGACT: x"])
      [1, 3]
  """
  @spec active_cids([String.t()]) :: [pos_integer()]
  def active_cids(lines) do
    for line <- lines,
        [_, cid, "1"] <- [Regex.run(~r/\A\s*\+CGACT:\s*(\d{1,3})\s*,\s*([01])\s*\z/, line)],
        cid = String.to_integer(cid),
        cid > 0,
        do: cid
  end

  defp fields(line, kind) do
    case AT.parse(line) do
      {:ok, {^kind, fields}} -> fields
      _ -> nil
    end
  end
end
