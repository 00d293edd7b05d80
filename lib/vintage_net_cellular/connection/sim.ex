defmodule VintageNetCellular.Connection.SIM do
  @moduledoc """
  The SIM step of the connection manager, as pure decisions.

  `status/1` turns what the modem said to `AT+CPIN?` (a `+CPIN:` state or a
  `+CME ERROR`) into one status. `decide/3` says what to do about it, given
  the configured `sim_pin` and whether that PIN was already tried on this SIM.
  The rule that protects the PUK counter lives here: a PIN is sent only when
  the SIM asks for it, and never a second time to the same SIM. Three wrong
  PINs lock a SIM until its PUK is entered, so a wrong `sim_pin` must cost one
  attempt, not three.

      iex> alias VintageNetCellular.Connection.SIM
      iex> SIM.status({:cpin, :ready})
      :ready
      iex> SIM.status({:cme_error, 10})
      :absent
      iex> SIM.decide(:pin_required, "1234", false)
      {:unlock, "1234"}
      iex> {:locked, reason} = SIM.decide(:pin_required, "1234", true)
      iex> reason =~ "rejected"
      true
  """

  @typedoc "What the modem says about its SIM."
  @type status ::
          :ready
          | :absent
          | :pin_required
          | :puk_required
          | :busy
          | {:modem_lock, atom()}
          | {:error, String.t()}

  @typedoc "What `AT+CPIN?` gave: the `+CPIN:` state, or the `+CME ERROR` code/text."
  @type answer :: {:cpin, atom()} | {:cme_error, integer() | String.t() | nil}

  @typedoc "What to do next."
  @type decision ::
          :ready
          | {:unlock, String.t()}
          | {:locked, String.t()}
          | {:absent, String.t()}
          | {:wait, String.t()}

  @absent_states [:not_inserted, :sim_not_inserted, :sim_removed]

  @doc """
  The SIM status from a `+CPIN:` state or a `+CME ERROR` (numeric, or the
  27.007 text of `AT+CMEE=2`).

      iex> VintageNetCellular.Connection.SIM.status({:cpin, :sim_pin})
      :pin_required
      iex> VintageNetCellular.Connection.SIM.status({:cme_error, "SIM PUK required"})
      :puk_required
      iex> VintageNetCellular.Connection.SIM.status({:cpin, :ph_net_pin})
      {:modem_lock, :ph_net_pin}
  """
  @spec status(answer()) :: status()
  def status({:cpin, :ready}), do: :ready
  def status({:cpin, :sim_pin}), do: :pin_required
  def status({:cpin, :sim_puk}), do: :puk_required
  def status({:cpin, :not_ready}), do: :busy
  def status({:cpin, state}) when state in @absent_states, do: :absent
  # SIM PIN2/PUK2 guard phone book and call barring, never data: the SIM is usable.
  def status({:cpin, state}) when state in [:sim_pin2, :sim_puk2], do: :ready
  def status({:cpin, state}) when is_atom(state), do: {:modem_lock, state}

  def status({:cme_error, code}) when is_integer(code) do
    case code do
      10 -> :absent
      11 -> :pin_required
      12 -> :puk_required
      13 -> {:error, "SIM failure (+CME ERROR: 13): the card is not usable; check that it sits right"}
      14 -> :busy
      15 -> {:error, "SIM wrong (+CME ERROR: 15): the modem does not accept this card"}
      code when code in [5, 6, 7, 40, 41, 42, 43, 44, 45, 46, 47] -> {:modem_lock, :"cme_#{code}"}
      other -> {:error, "the modem answered AT+CPIN? with +CME ERROR: #{other}"}
    end
  end

  def status({:cme_error, text}) when is_binary(text) do
    case String.downcase(String.trim(text)) do
      "sim not inserted" -> :absent
      "sim pin required" -> :pin_required
      "sim puk required" -> :puk_required
      "sim busy" -> :busy
      "sim failure" -> status({:cme_error, 13})
      "sim wrong" -> status({:cme_error, 15})
      _ -> {:error, "the modem answered AT+CPIN? with +CME ERROR: #{text}"}
    end
  end

  def status({:cme_error, nil}), do: {:error, "the modem answered AT+CPIN? with an unknown +CME ERROR"}

  @doc """
  What to do about a SIM status, given the configured PIN (or nil) and
  whether that PIN was already sent to this SIM.
  """
  @spec decide(status(), String.t() | nil, boolean()) :: decision()
  def decide(:ready, _pin, _tried?), do: :ready

  def decide(:pin_required, nil, _tried?) do
    {:locked,
     "The SIM asks for its PIN but no :sim_pin is configured. Add sim_pin to the " <>
       "vintage_net_cellular config, or remove the PIN lock from the SIM"}
  end

  def decide(:pin_required, pin, false), do: {:unlock, pin}

  def decide(:pin_required, _pin, true) do
    {:locked,
     "The SIM rejected the configured :sim_pin. It will not be tried again on this SIM, so that " <>
       "the PUK counter is not used up. Correct sim_pin and configure again, or unlock it by hand " <>
       "with VintageNetCellular.at(ifname, \"AT+CPIN=...\")"}
  end

  def decide(:puk_required, _pin, _tried?) do
    {:locked,
     "The SIM is PUK-locked (too many wrong PINs). Unlock it with its PUK: " <>
       ~s[VintageNetCellular.at(ifname, ~s(AT+CPIN="<PUK>","<new PIN>"))]}
  end

  def decide(:absent, _pin, _tried?) do
    {:absent, "No SIM card: the modem reports none inserted. Insert a SIM (the modem is checked again)"}
  end

  def decide(:busy, _pin, _tried?), do: {:wait, "The SIM is starting up (SIM busy)"}

  def decide({:modem_lock, what}, _pin, _tried?) do
    {:locked,
     "The modem is locked to another network or SIM (#{what}). It needs its network/SIM " <>
       "personalization unlock code from the modem's vendor or carrier"}
  end

  def decide({:error, message}, _pin, _tried?), do: {:absent, message}

  @doc """
  Whether the PIN may be sent, given the attempts the SIM has left (`nil`
  when the modem can't tell).

  A PIN is never sent when only one attempt is left: if that PIN were wrong,
  the SIM would lock itself into PUK. The user can still send it by hand
  with `VintageNetCellular.at/3`.

      iex> VintageNetCellular.Connection.SIM.check_attempts(3)
      :ok
      iex> VintageNetCellular.Connection.SIM.check_attempts(nil)
      :ok
      iex> {:locked, reason} = VintageNetCellular.Connection.SIM.check_attempts(1)
      iex> reason =~ "one PIN attempt left"
      true
  """
  @spec check_attempts(non_neg_integer() | nil) :: :ok | {:locked, String.t()}
  def check_attempts(nil), do: :ok
  def check_attempts(attempts) when is_integer(attempts) and attempts > 1, do: :ok

  def check_attempts(attempts) when is_integer(attempts) do
    {:locked,
     "The SIM has #{if attempts == 1, do: "only one PIN attempt left", else: "no PIN attempts left"}, " <>
       "so the configured sim_pin is not sent: a wrong PIN would lock the SIM into PUK. Check the " <>
       ~s[PIN, then send it by hand with VintageNetCellular.at(ifname, ~s(AT+CPIN="<PIN>"))]}
  end

  @doc """
  The SIM PIN attempts left, from the parsed answer lines of a profile's
  `c:VintageNetCellular.ModemProfile.pin_attempts_command/0` (27.007
  `+CPINR`, Quectel `+QPINC`, SIMCom `+SPIC`); `nil` when no line tells.

      iex> alias VintageNetCellular.Connection.SIM
      iex> SIM.pin_attempts([{:cpinr, %{code: :sim_pin, retries: 2, default_retries: 3}}])
      2
      iex> SIM.pin_attempts([{:qpinc, %{facility: "P2", pin: 3, puk: 10}}, {:qpinc, %{facility: "SC", pin: 1, puk: 10}}])
      1
      iex> SIM.pin_attempts([{:spic, %{pin: 3, puk: 10, pin2: 3, puk2: 10}}])
      3
      iex> SIM.pin_attempts([{:cpinr, %{code: :sim_puk, retries: 10, default_retries: 10}}])
      nil
  """
  @spec pin_attempts([{atom(), map()}]) :: non_neg_integer() | nil
  def pin_attempts(parsed) when is_list(parsed), do: Enum.find_value(parsed, &attempts_of/1)

  defp attempts_of({:cpinr, %{code: :sim_pin, retries: n}}) when is_integer(n), do: n

  defp attempts_of({:qpinc, %{facility: f, pin: n}}) when is_binary(f) and is_integer(n),
    do: if(String.upcase(f) == "SC", do: n)

  defp attempts_of({:spic, %{pin: n}}) when is_integer(n), do: n
  defp attempts_of(_other), do: nil

  @doc """
  The `sim` property value of a status (the values issue 5 documents):
  `:ready | :absent | :pin_required | :puk_required | :error`.

      iex> VintageNetCellular.Connection.SIM.property(:busy)
      :error
  """
  @spec property(status()) :: :ready | :absent | :pin_required | :puk_required | :error
  def property(status) when status in [:ready, :absent, :pin_required, :puk_required], do: status
  def property(_other), do: :error

  @doc """
  Whether the answer to `AT+CPIN="<pin>"` says the PIN was wrong.

  `+CME ERROR: 16` ("incorrect password") is the 27.007 answer; some modems
  only answer `ERROR`, and some answer 12 when that attempt used up the last
  try. Anything else (a timeout, a closed port) is not counted as wrong, but
  the PIN is still never resent to this SIM.

      iex> VintageNetCellular.Connection.SIM.wrong_pin?({:error, {:cme_error, 16}})
      true
      iex> VintageNetCellular.Connection.SIM.wrong_pin?({:error, {:cme_error, "incorrect password"}})
      true
      iex> VintageNetCellular.Connection.SIM.wrong_pin?({:ok, []})
      false
  """
  @spec wrong_pin?(term()) :: boolean()
  def wrong_pin?({:error, {:cme_error, code}}) when code in [12, 16], do: true

  def wrong_pin?({:error, {:cme_error, text}}) when is_binary(text),
    do: String.downcase(String.trim(text)) in ["incorrect password", "sim puk required"]

  def wrong_pin?({:error, :error}), do: true
  def wrong_pin?(_), do: false
end
