defmodule VintageNetCellular.ATPort.Atoms do
  @moduledoc """
  The atoms of the port program's frames, and the decoding of those frames.

  `cellular_port` writes its events in the Erlang external term format and
  `VintageNetCellular.ATPort` reads them with
  `:erlang.binary_to_term(frame, [:safe])`, which refuses any atom the VM does
  not know yet. So every atom a frame may hold must exist before the first
  frame arrives: they are the literals of `@atoms` below, created when this
  module is loaded (`decode/1` lives here, so it is loaded before any frame is
  decoded).

  The list mirrors `cellular_core::protocol::ATOMS` in Rust, the one table
  the port program takes atoms from (the protocol's tags and the AT parsers'
  kinds, keys and names). A test compares the two through
  `cellular_port --atoms`; a missing atom would make frames fail to decode,
  and is logged as such.
  """

  @atoms ~w(
    act active_time allowed_nssai apn arfcn attached_rlos auth auth_prot bad_prefix band ber busy
    c5greg cause_type cell_id cereg cesq cgauth cgdcont cgreg channel chap ci cid close closed
    cme_error cms_error code command connect control_byte cops cpin cpinr cpsi creg
    csfb_not_preferred_home csfb_not_preferred_roaming csq ctze ctzv day debug default_retries denied
    dl_bandwidth dlbw dst earfcn ec_gsm_iot ecio ecno emergency_only empty err error eutra_5gcn
    eutra_nr eutran eutran_nb_s1 extra_field facility fields format gsm gsm_compact gsm_egprs hardware
    hour iccid info invalid_field invalid_utf8 lac log mcc message minute missing_field mnc mode month
    mux_down mux_start mux_stop mux_up
    ng_ran no_answer no_carrier no_dialtone no_prefix none not_inserted not_ready not_registered
    nr_5gcn ok open opened operation_mode operator other overflow pap pap_or_chap pci pdp_type
    periodic_tau ph_corp_pin ph_corp_puk ph_fsim_pin ph_fsim_puk ph_net_pin ph_net_puk ph_netsub_pin
    ph_netsub_puk ph_sim_pin ph_sp_pin ph_sp_puk pin pin1 pin2 pin_counter prefix prompt psc puk puk1
    puk2 puk_counter qcsq qlts qnwinfo qpinc queue_full rac raw ready registered_home
    registered_roaming reject_cause response response_too_large retries retrying rscp rsrp rsrq rssi
    rssnr rxlev searching second service sim_not_inserted sim_pin sim_pin2 sim_puk sim_puk2 sim_removed
    sinr sinr_raw sms_only_home sms_only_roaming spic stat state sysmode system_mode tac time timeout
    too_long tz uarfcn ul_bandwidth ulbw unknown unterminated_quote urc urcs urcs_shed username utran
    utran_hsdpa utran_hsdpa_hsupa utran_hsupa value values warning year
  )a

  @doc "Every atom the port program may send, beside `true`, `false` and `nil`."
  @spec all() :: [atom()]
  def all, do: @atoms

  @doc """
  Decodes one event frame of the port program.

      iex> VintageNetCellular.ATPort.Atoms.decode(:erlang.term_to_binary({:urc, "RING", {:error, {:no_prefix, "x"}}}))
      {:ok, {:urc, "RING", {:error, {:no_prefix, "x"}}}}
      iex> {:error, message} = VintageNetCellular.ATPort.Atoms.decode(<<131, 0>>)
      iex> message =~ "bad event frame"
      true
  """
  @spec decode(binary()) :: {:ok, term()} | {:error, String.t()}
  def decode(frame) when is_binary(frame) do
    {:ok, :erlang.binary_to_term(frame, [:safe])}
  rescue
    ArgumentError ->
      {:error,
       "bad event frame (#{byte_size(frame)} bytes, starting #{head(frame)}): " <>
         "not a term, or one with an atom this VM does not know (VintageNetCellular.ATPort.Atoms lacks it?)"}
  end

  defp head(frame) do
    frame
    |> binary_part(0, min(byte_size(frame), 8))
    |> :binary.bin_to_list()
    |> Enum.map_join(" ", &(&1 |> Integer.to_string(16) |> String.pad_leading(2, "0") |> String.downcase()))
  end
end
