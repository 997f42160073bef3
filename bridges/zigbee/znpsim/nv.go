package znpsim

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// The emulated stick is a CC2652 running Z-Stack 3.x.0: its NV items are
// stored 16-bit aligned (a uint16 or uint32 member starts at an even offset,
// a structure is padded to an even length), as on every ARM build of Z-Stack.
// Hosts tell the layout from the length of ZCD_NV_NWKKEY: 24 bytes aligned,
// 21 packed.

// NIB (nwkIB_t, NV item 0x0021) offsets in the aligned 116-byte layout.
const (
	nibLen             = 116
	nibSecurityLevel   = 12
	nibDevAddress      = 22
	nibLogicalChannel  = 24
	nibCoordAddress    = 26
	nibCoordExtAddress = 28
	nibPanID           = 36
	nibState           = 38
	nibChannelList     = 40
	nibExtendedPANID   = 57
	nibNwkKeyLoaded    = 65
	nibManagerAddr     = 110
	nibUpdateID        = 114
)

// Extended NV (NVOCMP) keys: system id, item id, sub id.
type exKey struct {
	sys  uint8
	item uint16
	sub  uint16
}

// Entry sizes of the extended tables (aligned).
const (
	addrMgrEntryLen   = 12 // user, pad, nwkAddr, extAddr[8]
	tclkEntryLen      = 20 // txFrmCntr, rxFrmCntr, extAddr[8], keyAttributes, keyType, SeedShift_IcIndex, pad
	secMaterialLen    = 12 // FrameCounter, extendedPANID[8]
	secMgrEntries     = 3  // ZDSECMGR_ENTRY_MAX
	secMgrEntryLen    = 6  // ami, keyNvId, authenticationOption, pad
	addrMgrUserAssoc  = 0x01
	addrMgrUserSecure = 0x02
	tclkKeyVerified   = 0x02 // keyAttributes: ZG_VERIFIED_KEY
)

func factoryNV(ieee uint64) map[uint16][]byte {
	smt := []byte{0, 0} // inline count header
	for i := 0; i < secMgrEntries; i++ {
		smt = append(smt, 0xFE, 0xFF, 0x00, 0x00, 0x00, 0x00)
	}
	return map[uint16][]byte{
		mt.NVStartupOption:    {0},
		mt.NVLogicalType:      {0},
		mt.NVZDODirectCB:      {0},
		mt.NVPANID:            {0xFF, 0xFF},
		mt.NVChanList:         {0x00, 0x08, 0x00, 0x00},
		mt.NVExtendedPANID:    binary.LittleEndian.AppendUint64(nil, ieee),
		mt.NVAPSUseExtPANID:   make([]byte, 8),
		mt.NVPreCfgKey:        append([]byte(nil), defaultNwkKey...),
		mt.NVPreCfgKeysEnable: {0}, // Z-Stack's default (zgPreConfigKeys = FALSE)
		// nwkActiveKeyItems_t: keySeqNum, key[16], pad, frameCounter (uint32 at 20).
		mt.NVNwkKey:          make([]byte, 24),
		mt.NVActiveKeyInfo:   make([]byte, 17),
		mt.NVAlternKeyInfo:   make([]byte, 17),
		mt.NVAPSLinkKeyTable: smt,
		mt.NVTCLKSeed:        make([]byte, 16),
	}
}

// buildNIB lays out the network information base of the formed network.
func (s *Sim) buildNIB() []byte {
	nib := make([]byte, nibLen)
	nib[0] = 0x01 // SequenceNum
	nib[1] = 0x05 // PassiveAckTimeout
	nib[2] = 0x02 // MaxBroadcastRetries
	nib[3] = 0x14 // MaxChildren
	nib[4] = 0x0F // MaxDepth
	nib[5] = 0x14 // MaxRouters
	nib[7] = 0x0F // BroadcastDeliveryTime
	nib[8] = 0x07 // ReportConstantCost
	nib[9] = 0x04 // RouteDiscRetries
	nib[11] = 0x01
	nib[nibSecurityLevel] = 0x05
	nib[14] = 0x8F                                  // CapabilityFlags
	binary.LittleEndian.PutUint16(nib[16:], 0x07D0) // TransactionPersistenceTime
	nib[18] = 0x02                                  // nwkProtocolVersion
	nib[19] = 0x05                                  // RouteDiscoveryTime
	nib[20] = 0x3C                                  // RouteExpiryTime
	binary.LittleEndian.PutUint16(nib[nibDevAddress:], 0x0000)
	nib[nibLogicalChannel] = s.channel
	binary.LittleEndian.PutUint16(nib[nibCoordAddress:], 0x0000)
	binary.LittleEndian.PutUint64(nib[nibCoordExtAddress:], 0)
	binary.LittleEndian.PutUint16(nib[nibPanID:], s.panID)
	nib[nibState] = 0x06 // NWK_ROUTER
	binary.LittleEndian.PutUint32(nib[nibChannelList:], uint32(1)<<s.channel)
	nib[44], nib[45], nib[46] = 0x0F, 0x0F, 0x04 // beacon order, superframe order, scan duration
	binary.LittleEndian.PutUint64(nib[nibExtendedPANID:], s.extPAN)
	nib[nibNwkKeyLoaded] = 0x01
	nib[102] = 0x0F // nwkLinkStatusPeriod
	nib[103] = 0x03 // nwkRouterAgeLimit
	nib[105] = 0x01 // nwkIsConcentrator
	nib[106] = 0x78 // nwkConcentratorDiscoveryTime
	nib[107] = 0x1E // nwkConcentratorRadius
	nib[108] = 0x01 // nwkAllFresh
	binary.LittleEndian.PutUint16(nib[nibManagerAddr:], 0x0000)
	return nib
}

// storeKeys writes the formed network's key where Z-Stack keeps it: the
// active and alternate key descriptors and ZCD_NV_NWKKEY.
func (s *Sim) storeKeys() {
	desc := append([]byte{0}, s.key...)
	s.nv[mt.NVActiveKeyInfo] = desc
	s.nv[mt.NVAlternKeyInfo] = append([]byte(nil), desc...)
	nk := make([]byte, 24)
	copy(nk[1:], s.key)
	s.nv[mt.NVNwkKey] = nk
	seed := make([]byte, 16)
	_, _ = rand.Read(seed)
	s.nv[mt.NVTCLKSeed] = seed
}

// syncTables rebuilds the extended NV tables a host backs up (address
// manager, trust-centre link keys, network security material) from the
// network's state. Call with s.mu held.
func (s *Sim) syncTables() {
	for k := range s.exNV {
		if k.sys == mt.NVSysZStack && (k.item == mt.NVExAddrMgr || k.item == mt.NVExTCLKTable || k.item == mt.NVExNwkSecMaterial) {
			delete(s.exNV, k)
		}
	}
	if !s.formed {
		return
	}
	sm := binary.LittleEndian.AppendUint32(nil, s.frameCounter)
	s.exNV[exKey{mt.NVSysZStack, mt.NVExNwkSecMaterial, 0}] = binary.LittleEndian.AppendUint64(sm, s.extPAN)
	var sub uint16
	for _, d := range s.devices {
		if !d.joined {
			continue
		}
		e := make([]byte, addrMgrEntryLen)
		e[0] = addrMgrUserAssoc | addrMgrUserSecure
		e[1] = 0xFF
		binary.LittleEndian.PutUint16(e[2:], d.nwk)
		binary.LittleEndian.PutUint64(e[4:], d.ieee)
		s.exNV[exKey{mt.NVSysZStack, mt.NVExAddrMgr, sub}] = e
		t := make([]byte, tclkEntryLen)
		binary.LittleEndian.PutUint32(t[4:], uint32(d.apsSeq))
		binary.LittleEndian.PutUint64(t[8:], d.ieee)
		t[16] = tclkKeyVerified
		s.exNV[exKey{mt.NVSysZStack, mt.NVExTCLKTable, sub}] = t
		sub++
	}
}

// handleExNV serves the extended NV commands (SYS 0x30–0x35).
func (s *Sim) handleExNV(f unpi.Frame) {
	d := f.Data
	if len(d) < 5 {
		s.rpcError(f, mtErrLength)
		return
	}
	k := exKey{d[0], binary.LittleEndian.Uint16(d[1:]), binary.LittleEndian.Uint16(d[3:])}
	v, ok := s.exNV[k]
	switch f.Cmd {
	case mt.SysNVLength2:
		s.srsp(f, binary.LittleEndian.AppendUint32(nil, uint32(len(v)))...)
	case mt.SysNVCreate:
		if len(d) < 9 {
			s.rpcError(f, mtErrLength)
			return
		}
		if ok {
			s.srsp(f, mt.StatusNVItemUninit) // NV_ITEM_INITIALIZED: it exists already
			return
		}
		s.exNV[k] = make([]byte, binary.LittleEndian.Uint32(d[5:]))
		s.srsp(f, mt.StatusSuccess)
	case mt.SysNVDelete2:
		if !ok {
			s.srsp(f, mt.StatusNVOperFailed)
			return
		}
		delete(s.exNV, k)
		s.srsp(f, mt.StatusSuccess)
	case mt.SysNVRead2:
		if len(d) < 8 {
			s.rpcError(f, mtErrLength)
			return
		}
		off, n := int(binary.LittleEndian.Uint16(d[5:])), int(d[7])
		if !ok || off > len(v) {
			s.srsp(f, mt.StatusNVOperFailed, 0)
			return
		}
		v = v[off:]
		if n < len(v) {
			v = v[:n]
		}
		if len(v) > 244 {
			v = v[:244]
		}
		s.srsp(f, append([]byte{mt.StatusSuccess, byte(len(v))}, v...)...)
	case mt.SysNVWrite2:
		if len(d) < 8 || len(d) < 8+int(d[7]) {
			s.rpcError(f, mtErrLength)
			return
		}
		off, n := int(binary.LittleEndian.Uint16(d[5:])), int(d[7])
		if !ok || off+n > len(v) {
			s.srsp(f, mt.StatusNVOperFailed)
			return
		}
		copy(v[off:], d[8:8+n])
		s.srsp(f, mt.StatusSuccess)
	case mt.SysNVUpdate2:
		if len(d) < 6 || len(d) < 6+int(d[5]) {
			s.rpcError(f, mtErrLength)
			return
		}
		s.exNV[k] = append([]byte(nil), d[6:6+int(d[5])]...)
		s.srsp(f, mt.StatusSuccess)
	}
}

// MT RPC error codes (the RPC_CMD error frame's first byte).
const (
	mtErrSubsystem = 1
	mtErrCommand   = 2
	mtErrParameter = 3
	mtErrLength    = 4
)
