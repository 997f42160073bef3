package mt

// SYS commands (subsystem unpi.SYS).
const (
	SysResetReq   = 0x00
	SysPing       = 0x01
	SysVersion    = 0x02
	SysGetExtAddr = 0x04
	SysNVItemInit = 0x07
	SysNVRead     = 0x08
	SysNVWrite    = 0x09
	SysNVDelete   = 0x12
	SysNVLength   = 0x13
	SysNVReadExt  = 0x1C
	SysNVWriteExt = 0x1D
	SysStackTune  = 0x0F
	// The extended NV (NVOCMP) commands: items addressed by system id, item id and sub id.
	SysNVCreate    = 0x30
	SysNVDelete2   = 0x31
	SysNVLength2   = 0x32
	SysNVRead2     = 0x33
	SysNVWrite2    = 0x34
	SysNVUpdate2   = 0x35
	SysResetInd    = 0x80
	BootloaderSkip = 0xEF
)

// UTIL commands.
const (
	UtilGetDeviceInfo       = 0x00
	UtilLEDControl          = 0x0A
	UtilAssocCount          = 0x48
	UtilAssocFindDev        = 0x49
	UtilAssocGetWithAddress = 0x4A
	UtilAssocRemove         = 0x63
	UtilAssocAdd            = 0x64
)

// ZDO commands and callbacks.
const (
	ZdoNwkAddrReq        = 0x00
	ZdoIEEEAddrReq       = 0x01
	ZdoNodeDescReq       = 0x02
	ZdoSimpleDescReq     = 0x04
	ZdoActiveEPReq       = 0x05
	ZdoBindReq           = 0x21
	ZdoUnbindReq         = 0x22
	ZdoMgmtLeaveReq      = 0x34
	ZdoMgmtPermitJoinReq = 0x36
	ZdoStartupFromApp    = 0x40
	ZdoExtRouteDisc      = 0x45
	ZdoExtNwkInfo        = 0x50
	ZdoExtFindGroup      = 0x4A
	ZdoExtAddGroup       = 0x4B

	ZdoNodeDescRsp       = 0x82
	ZdoSimpleDescRsp     = 0x84
	ZdoActiveEPRsp       = 0x85
	ZdoBindRsp           = 0xA1
	ZdoMgmtLeaveRsp      = 0xB4
	ZdoMgmtPermitJoinRsp = 0xB6
	ZdoStateChangeInd    = 0xC0
	ZdoEndDeviceAnnceInd = 0xC1
	ZdoLeaveInd          = 0xC9
	ZdoTCDevInd          = 0xCA
	ZdoPermitJoinInd     = 0xCB
)

// AF commands and callbacks.
const (
	AfRegister       = 0x00
	AfDataRequest    = 0x01
	AfDataRequestExt = 0x02
	AfDataConfirm    = 0x80
	AfIncomingMsg    = 0x81
)

// APP_CNF (BDB) commands and callbacks.
const (
	AppCnfBDBStartCommissioning = 0x05
	AppCnfBDBSetChannel         = 0x08
	AppCnfBDBCommissioningNotif = 0x80
)

// NV item ids.
const (
	NVStartupOption    = 0x0003
	NVNwkKey           = 0x0082
	NVTCLKSeed         = 0x0101
	NVAPSLinkKeyTable  = 0x004C
	NVNIB              = 0x0021
	NVExtendedPANID    = 0x002D
	NVActiveKeyInfo    = 0x003A
	NVAlternKeyInfo    = 0x003B
	NVAPSUseExtPANID   = 0x0047
	NVHasConfigured3   = 0x0060
	NVPreCfgKey        = 0x0062
	NVPreCfgKeysEnable = 0x0063
	NVPANID            = 0x0083
	NVChanList         = 0x0084
	NVLogicalType      = 0x0087
	NVZDODirectCB      = 0x008F
)

// Extended NV (system id ZSTACK = 1) item ids.
const (
	NVSysZStack         = 0x01
	NVExAddrMgr         = 0x0001
	NVExTCLKTable       = 0x0004
	NVExNwkSecMaterial  = 0x0007
	NVExAPSKeyDataTable = 0x0006
)

// Device states (ZDO_STATE_CHANGE_IND, UTIL_GET_DEVICE_INFO).
const (
	DevHold          = 0
	DevInit          = 1
	DevCoordStarting = 8
	DevZBCoord       = 9
)

// AF_DATA_CONFIRM and SRSP status codes.
const (
	StatusSuccess               = 0x00
	StatusFailure               = 0x01
	StatusInvalidParameter      = 0x02
	StatusNVItemUninit          = 0x09
	StatusNVOperFailed          = 0x0A
	StatusBufferFull            = 0x11
	StatusMACNoResources        = 0x1A
	StatusAPSDuplicateEntry     = 0xB8
	StatusNWKNoRoute            = 0xCD
	StatusMACChannelAccessFail  = 0xE1
	StatusMACNoAck              = 0xE9
	StatusMACTransactionExpired = 0xF0
)

// HasConfiguredMagic is the value written to NVHasConfigured3 once the network is formed.
const HasConfiguredMagic = 0x55
